// SPDX-License-Identifier: BSD-2-Clause
/* perfbpf's own cost per event on the consumer's side, in process: probe ABI v3 ring records as
 * the demo engine's threads produce them (each symbol tick: two timed ops and the tick's own, an
 * order span with three ops every 8th tick; TSC stamps; 1,024 records per flush, sent as the
 * kernel sends them: ring records of PERFBPF_V3_CHUNK records and a collection end), decoded by
 * the batch decoder and aggregated as `perfbpf run` does by default (no file, no export, no
 * attribution: ops go to the statistics without a whole event). No BPF and no engine: what it measures is what limits the event rate perfbpf
 * keeps up with. Prints the events handed on (a span's begin and end records make one) and the
 * ns per record for the fastest of ROUNDS rounds of RECORDS records; with --decode-only the
 * events are decoded and not aggregated.
 * Usage: consumer_cost [--decode-only] [RECORDS] [ROUNDS] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/aggregate/agg.h"
#include "user/collect/batch_decoder.h"
#include "user/lib/util.h"

#define THREADS 2
#define SYMBOLS 3
#define BATCH 1024
#define KEYTAB 0x7f0000001000ull
#define TICK_NS 50000000ull /* a new TSC pair every 50 ms of engine time, as perfbpf samples */

enum { K_TICK, K_IND, K_SIG, K_RISK, K_SIZE, K_FILL, K_ORDER, K_ORDER_END, K_PER_SYMBOL = 7 };

static const char *const metric_of[K_PER_SYMBOL] = {
	"strategy.tick", "strategy.indicators", "strategy.getSignal", "risk.checkSignal",
	"sizing.calculate", "exchange.fill", "order.submit",
};
static const char *const symbols[SYMBOLS] = { "BTCUSDT", "ETHUSDT", "SOLUSDT" };

struct gen {
	uint32_t tid;
	uint64_t tsc;  /* the thread's clock, in ticks (2.5 per ns) */
	uint64_t tick; /* symbol ticks so far */
	struct perfbpf_rec pend[16];
	unsigned npend, next;
};

static int count_event(void *ctx, const struct perfbpf_event *e)
{
	return ctx ? agg__add(ctx, e) : 0;
}

/* an op for the statistics alone, as `perfbpf run` hands them on by default */
static int count_op(void *ctx, uint32_t names_id, uint64_t end_ns, uint64_t duration_ns)
{
	return ctx ? agg__add_op(ctx, names_id, end_ns, duration_ns) : 0;
}

static uint32_t key_id(unsigned thread, unsigned sym, unsigned k)
{
	if (k == K_ORDER_END) /* (name, "", ""): one per name and strategy's object */
		return THREADS * SYMBOLS * K_PER_SYMBOL + 1;
	return (thread * SYMBOLS + sym) * K_PER_SYMBOL + k + 1;
}

static void define_keys(struct batch_decoder *d)
{
	struct perfbpf_v3_keydef r;

	for (unsigned t = 0; t < THREADS; t++)
		for (unsigned s = 0; s < SYMBOLS; s++)
			for (unsigned k = 0; k < K_PER_SYMBOL; k++) {
				memset(&r, 0, sizeof(r));
				r.kind = PERFBPF_EV_V3_KEYDEF;
				r.pid = 100;
				r.tid = 100;
				r.keytab = KEYTAB;
				r.def.id = key_id(t, s, k);
				r.def.ready = 1;
				snprintf(r.def.metric, sizeof(r.def.metric), "%s", metric_of[k]);
				snprintf(r.def.symbol, sizeof(r.def.symbol), "%s", symbols[s]);
				snprintf(r.def.strategy, sizeof(r.def.strategy), "sma-%u-30", 10 + t);
				batch_decoder__record(d, &r, sizeof(r));
			}
	memset(&r, 0, sizeof(r));
	r.kind = PERFBPF_EV_V3_KEYDEF;
	r.pid = 100;
	r.keytab = KEYTAB;
	r.def.id = key_id(0, 0, K_ORDER_END);
	r.def.ready = 1;
	snprintf(r.def.metric, sizeof(r.def.metric), "order.submit");
	batch_decoder__record(d, &r, sizeof(r));
}

static void put(struct gen *g, uint32_t kind, uint32_t key, uint64_t value, uint64_t work_ns)
{
	g->tsc += work_ns * 5 / 2;
	g->pend[g->npend++] = (struct perfbpf_rec){ .key = key, .kind = kind, .ts = g->tsc,
						    .value = value };
}

/* Queues the records of the thread's next symbol tick. */
static void symbol_tick(struct gen *g)
{
	unsigned t = g->tid - 101, s = (unsigned)(g->tick % SYMBOLS);
	uint64_t start = g->tsc, op;

	g->npend = g->next = 0;
	op = g->tsc;
	put(g, PERFBPF_REC_OP_SINCE, key_id(t, s, K_IND), op | PERFBPF_STAMP_TSC, 300);
	op = g->tsc;
	put(g, PERFBPF_REC_OP_SINCE, key_id(t, s, K_SIG), op | PERFBPF_STAMP_TSC, 60);
	if (g->tick % 8 == 0) {
		put(g, PERFBPF_REC_SPAN_BEGIN, key_id(t, s, K_ORDER), 0, 5);
		for (unsigned k = K_RISK; k <= K_FILL; k++) {
			op = g->tsc;
			put(g, PERFBPF_REC_OP_SINCE, key_id(t, s, k), op | PERFBPF_STAMP_TSC, 40);
		}
		put(g, PERFBPF_REC_SPAN_END, key_id(t, s, K_ORDER_END), 0, 5);
	}
	put(g, PERFBPF_REC_OP_SINCE, key_id(t, s, K_TICK), start | PERFBPF_STAMP_TSC, 20);
	g->tick++;
}

/* One round: `events` records in batches, the threads' batches interleaved; ns per record. */
static double round_ns(uint64_t events, bool aggregate, uint64_t *handed_on)
{
	static union {
		struct perfbpf_v3_batch h;
		unsigned char bytes[sizeof(struct perfbpf_v3_batch) +
				    PERFBPF_V3_CHUNK * sizeof(struct perfbpf_rec)];
	} buf;
	static struct perfbpf_rec rec[BATCH];
	struct agg_opts ao = { .sample_budget = 4ull << 30, .max_keys = 100000 };
	struct tsc_clock *clock = calloc(1, sizeof(*clock));
	struct agg *a = agg__new(&ao);
	const struct batch_counts *c;
	struct batch_decoder *d;
	struct gen g[THREADS];
	uint64_t done = 0, t0, next_pair = 0, batchno = 0;
	double ns;

	if (!clock || !a)
		exit(1);
	tsc_clock__add(clock, 0, 1000);
	tsc_clock__add(clock, 1000, 1400);
	d = batch_decoder__new(count_event, aggregate ? a : NULL, 0, clock, false);
	if (!d)
		exit(1);
	batch_decoder__set_op_fn(d, count_op);
	define_keys(d);
	memset(g, 0, sizeof(g));
	for (unsigned t = 0; t < THREADS; t++)
		g[t].tid = 101 + t;
	t0 = mono_ns();
	while (done < events) {
		for (unsigned t = 0; t < THREADS; t++) {
			struct perfbpf_v3_exit end = { .kind = PERFBPF_EV_V3_END, .pid = 100,
						       .tid = g[t].tid };
			uint32_t n = 0;

			while (n < BATCH) {
				if (g[t].next == g[t].npend)
					symbol_tick(&g[t]);
				rec[n++] = g[t].pend[g[t].next++];
			}
			/* as in a run, the mapping gains a pair every 50 ms, read when perfbpf polls
			 * the ring: after the stamps of the records it then decodes */
			if (g[t].tsc * 2 / 5 >= next_pair) {
				tsc_clock__add(clock, g[t].tsc + 1000, g[t].tsc * 2 / 5 + 1400);
				next_pair = g[t].tsc * 2 / 5 + TICK_NS;
			}
			for (uint32_t at = 0; at < n; at += PERFBPF_V3_CHUNK) {
				buf.h = (struct perfbpf_v3_batch){
					.kind = PERFBPF_EV_V3_BATCH, .flags = PERFBPF_TBUF_TSC,
					.pid = 100, .tid = g[t].tid, .keytab = KEYTAB,
					.batch = (uint32_t)batchno, .first = at,
					.n = PERFBPF_V3_CHUNK, .reason = PERFBPF_V3_FLUSH
				};
				memcpy(&buf.h + 1, rec + at, PERFBPF_V3_CHUNK * sizeof(*rec));
				if (batch_decoder__record(d, &buf, sizeof(buf.h) +
								      PERFBPF_V3_CHUNK * sizeof(*rec)))
					exit(1);
			}
			batchno++;
			if (batch_decoder__record(d, &end, sizeof(end)))
				exit(1);
			done += n;
		}
	}
	ns = (double)(mono_ns() - t0) / (double)done;
	c = batch_decoder__counts(d);
	if (c->malformed || c->undefined_key || c->before_start || c->span_mismatch ||
	    c->span_unmatched_end || c->span_depth_overflow) {
		fprintf(stderr, "consumer_cost: the generated records did not decode cleanly\n");
		exit(1);
	}
	*handed_on = c->events;
	batch_decoder__free(d);
	agg__free(a);
	free(clock);
	return ns;
}

int main(int argc, char **argv)
{
	bool aggregate = !(argc > 1 && !strcmp(argv[1], "--decode-only"));
	int at = aggregate ? 1 : 2;
	uint64_t events = argc > at ? strtoull(argv[at], NULL, 10) : 5000000;
	int rounds = argc > at + 1 ? atoi(argv[at + 1]) : 3;
	double best = 0;
	uint64_t handed_on = 0;

	if (events == 0 || rounds <= 0) {
		fprintf(stderr, "usage: consumer_cost [--decode-only] [RECORDS] [ROUNDS]\n");
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		double ns = round_ns(events, aggregate, &handed_on);

		if (r == 0 || ns < best)
			best = ns;
	}
	printf("%llu %.1f\n", (unsigned long long)handed_on, best);
	return 0;
}
