// SPDX-License-Identifier: BSD-2-Clause
/* The consumer yielding the CPU to the engine, and its watcher (see consumer_yield.h). */
#include "user/collect/consumer_yield.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "user/lib/util.h"

#define LATE_NS 20000000ull /* a timed duty this late: the watcher returns the consumer */

enum { YIELDING, RAISED, RAISED_FOR_GOOD };

struct consumer_yield {
	pid_t consumer; /* its thread id */
	pthread_t consumer_thread;
	uint64_t high, low;
	const volatile uint64_t *positions; /* the ring's consumer page, then its producer page */
	size_t page;
	int epfd, kickfd, pidfd; /* kickfd: a new due time, or stop */
	pthread_t watcher;
	sigset_t old_mask;
	_Atomic int state;
	_Atomic uint64_t loops, due_ns;
	_Atomic bool stopping;
	_Atomic uint64_t raised_full, raised_late, lowered;
};

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* SIGURG (ignored by default) from the watcher to the consumer after a stop signal: it ends a
 * system call the consumer is blocked in (EINTR), as the stop signal itself would have. */
static void on_nudge(int sig)
{
	(void)sig;
}

static int set_policy(pid_t tid, int policy)
{
	struct sched_param sp = { 0 };

	return sched_setscheduler(tid, policy, &sp) ? -errno : 0;
}

static uint64_t unread(const struct consumer_yield *y)
{
	uint64_t cons = __atomic_load_n(&y->positions[0], __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(&y->positions[y->page / sizeof(uint64_t)], __ATOMIC_ACQUIRE);

	return prod - cons;
}

/* The watcher's: the consumer at normal priority (again: the call is repeated on purpose, so
 * that a raise that crossed the consumer's own lowering is made good at the next wakeup).
 * Returns whether it was yielding. */
static bool raise_consumer(struct consumer_yield *y, int state)
{
	int old = atomic_load(&y->state);

	do {
		if (old == RAISED_FOR_GOOD)
			return false; /* the consumer's own, at its stop */
	} while (!atomic_compare_exchange_weak(&y->state, &old, state));
	if (set_policy(y->consumer, SCHED_OTHER))
		pb_debug("cannot return the consumer to normal priority: %s", strerror(errno));
	return old == YIELDING;
}

static void *watch(void *arg)
{
	struct consumer_yield *y = arg;
	sigset_t waiting;

	/* the stop signals come here, to a thread that runs, and only while it waits: a signal is
	 * then always seen as epoll's EINTR, never handled between two waits and missed */
	pthread_sigmask(SIG_SETMASK, NULL, &waiting);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigdelset(&waiting, stop_signals[i]);
	for (;;) {
		struct epoll_event ev[3];
		uint64_t loops = atomic_load(&y->loops), due = atomic_load(&y->due_ns);
		uint64_t now = mono_ns();
		int timeout = -1, n;

		/* a duty overdue and the consumer raised already: look again in LATE_NS */
		if (due)
			timeout = (int)((due + LATE_NS > now ? due + LATE_NS - now : LATE_NS) / 1000000 + 1);
		n = epoll_pwait(y->epfd, ev, 3, timeout, &waiting);
		if (n < 0 && errno != EINTR)
			break;
		if (n < 0) { /* a stop signal: its handler has run on this thread */
			raise_consumer(y, RAISED_FOR_GOOD);
			pthread_kill(y->consumer_thread, SIGURG);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == y->kickfd) {
				uint64_t v;

				if (atomic_load(&y->stopping))
					return NULL;
				if (read(y->kickfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					pb_debug("consumer's watcher: %s", strerror(errno));
			}
			if (ev[i].data.fd == y->pidfd) {
				raise_consumer(y, RAISED_FOR_GOOD);
				epoll_ctl(y->epfd, EPOLL_CTL_DEL, y->pidfd, NULL);
			}
		}
		if (unread(y) >= y->high) {
			if (raise_consumer(y, RAISED))
				atomic_fetch_add(&y->raised_full, 1);
		} else if (due && mono_ns() >= due + LATE_NS && atomic_load(&y->loops) == loops &&
			   atomic_load(&y->state) == YIELDING && raise_consumer(y, RAISED)) {
			atomic_fetch_add(&y->raised_late, 1);
		}
	}
	pb_debug("the consumer's watcher stopped: %s", strerror(errno));
	raise_consumer(y, RAISED_FOR_GOOD);
	return NULL;
}

static int watch_fd(int epfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void close_fds(struct consumer_yield *y)
{
	if (y->positions)
		munmap((void *)y->positions, 2 * y->page);
	if (y->epfd >= 0)
		close(y->epfd);
	if (y->kickfd >= 0)
		close(y->kickfd);
	if (y->pidfd >= 0)
		close(y->pidfd);
}

struct consumer_yield *consumer_yield__start(int ring_fd, uint64_t ring_size, pid_t pid,
					     uint64_t due_ns)
{
	struct consumer_yield *y = calloc(1, sizeof(*y));
	sigset_t set;
	void *p;
	int err;

	if (!y)
		return NULL;
	y->epfd = y->kickfd = y->pidfd = -1;
	y->consumer = gettid();
	y->consumer_thread = pthread_self();
	atomic_store(&y->due_ns, due_ns);
	y->page = (size_t)sysconf(_SC_PAGESIZE);
	y->high = ring_size / 2;
	y->low = ring_size / 8;
	/* read-only, the two position pages: the producer's may not be mapped writable */
	p = mmap(NULL, 2 * y->page, PROT_READ, MAP_SHARED, ring_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	y->positions = p;
	y->epfd = epoll_create1(EPOLL_CLOEXEC);
	y->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	y->pidfd = pidfd_open(pid, 0);
	if (y->epfd < 0 || y->kickfd < 0 || y->pidfd < 0)
		goto fail;
	/* edge-triggered: the BPF side's wakeups (each ring_size/4 unread), not every record */
	if ((err = watch_fd(y->epfd, ring_fd, EPOLLIN | EPOLLET)) ||
	    (err = watch_fd(y->epfd, y->kickfd, EPOLLIN)) ||
	    (err = watch_fd(y->epfd, y->pidfd, EPOLLIN))) {
		errno = -err;
		goto fail;
	}
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&set, stop_signals[i]);
	/* no SA_RESTART: the nudge ends a blocked call */
	if (sigaction(SIGURG, &(struct sigaction){ .sa_handler = on_nudge }, NULL))
		goto fail;
	/* the watcher starts with this thread's mask: it takes them only in epoll_pwait */
	if (pthread_sigmask(SIG_BLOCK, &set, &y->old_mask))
		goto fail;
	if ((err = pthread_create(&y->watcher, NULL, watch, y))) {
		pthread_sigmask(SIG_SETMASK, &y->old_mask, NULL);
		errno = err;
		goto fail;
	}
	if ((err = set_policy(0, SCHED_IDLE))) {
		consumer_yield__stop(y);
		errno = -err;
		return NULL;
	}
	return y;
fail:
	err = errno;
	close_fds(y);
	free(y);
	errno = err;
	return NULL;
}

void consumer_yield__loop(struct consumer_yield *y, uint64_t due_ns)
{
	int raised = RAISED;
	uint64_t one = 1;

	/* a new due time (a rescan, a push, the stop: twice a second at most) reaches the watcher */
	if (atomic_exchange(&y->due_ns, due_ns) != due_ns && write(y->kickfd, &one, sizeof(one)) < 0)
		pb_debug("cannot tell the consumer's watcher: %s", strerror(errno));
	atomic_fetch_add(&y->loops, 1);
	if (atomic_load(&y->state) != RAISED || unread(y) > y->low)
		return;
	if (!atomic_compare_exchange_strong(&y->state, &raised, YIELDING))
		return;
	set_policy(0, SCHED_IDLE);
	atomic_fetch_add(&y->lowered, 1);
	/* the watcher may have seen the ring fill while this thread was deciding: look again */
	if (unread(y) >= y->high && set_policy(0, SCHED_OTHER) == 0)
		atomic_store(&y->state, RAISED);
}

void consumer_yield__finish(struct consumer_yield *y)
{
	if (atomic_exchange(&y->state, RAISED_FOR_GOOD) != RAISED_FOR_GOOD)
		set_policy(0, SCHED_OTHER);
}

void consumer_yield__stop(struct consumer_yield *y)
{
	uint64_t one = 1;
	bool for_good;

	if (!y)
		return;
	/* normal priority first: the watcher, once stopped, could not return it from a starvation */
	for_good = atomic_exchange(&y->state, RAISED_FOR_GOOD) == RAISED_FOR_GOOD;
	set_policy(0, SCHED_OTHER); /* again: a raise by the watcher may have crossed a lowering */
	atomic_store(&y->stopping, true);
	if (write(y->kickfd, &one, sizeof(one)) != sizeof(one))
		pb_debug("cannot stop the consumer's watcher: %s", strerror(errno));
	else
		pthread_join(y->watcher, NULL);
	pthread_sigmask(SIG_SETMASK, &y->old_mask, NULL);
	pb_debug("consumer: raised %llu times (ring half full), %llu (late), lowered %llu times%s",
		 (unsigned long long)atomic_load(&y->raised_full),
		 (unsigned long long)atomic_load(&y->raised_late),
		 (unsigned long long)atomic_load(&y->lowered),
		 for_good ? ", then for good (its stop, the target's exit or a signal)" : "");
	close_fds(y);
	free(y);
}
