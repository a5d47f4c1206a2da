// SPDX-License-Identifier: BSD-2-Clause
// A test OTLP trace and metrics receiver for perfbpf's tests, on loopback. Every request body is decoded
// with the OpenTelemetry project's own generated decoder (@opentelemetry/otlp-transformer,
// build/src/generated/root.js): protobuf with ExportTraceServiceRequest.decode, JSON by the
// OTLP JSON rules (hex ids) through ExportTraceServiceRequest.fromObject and verify.
//
//   node receiver.js --out FILE [--port-file FILE] [--mode MODE] [--capture FILE] [--grpc 1]
//
// Once listening it prints "port N" on stdout (and writes N to --port-file).
//
// MODE: ok (default); fail:N:STATUS[:RETRY_AFTER_S] (the first N requests get STATUS, then ok);
// status:STATUS (every request); slow:MS (answer ok after MS); partial:N (ok, N spans rejected).
// With --tls DIR it serves TLS with DIR/server.crt and DIR/server.key (HTTPS, or gRPC over TLS),
// and with --mtls 1 it also asks for a client certificate signed by DIR/ca.crt and refuses
// connections without one.
// With --grpc 1 it is an OTLP/gRPC TraceService on the gRPC project's own server
// (@grpc/grpc-js, h2c) instead: STATUS is then a gRPC status code, and fail:N:8:DELAY_S answers
// RESOURCE_EXHAUSTED with a google.rpc.RetryInfo of DELAY_S seconds.
// Each request appends one JSON line to --out: its path (/v1/traces or /v1/metrics), status,
// headers, and the decoded spans with hex ids and every attribute as a plain value, or the
// decoded metric data points (ExportMetricsServiceRequest, the same generated decoder). --capture keeps the first body as received.
'use strict';
const fs = require('fs');
const http = require('http');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const v1 = root.opentelemetry.proto.collector.trace.v1;
const Req = v1.ExportTraceServiceRequest;
const Resp = v1.ExportTraceServiceResponse;
const m1 = root.opentelemetry.proto.collector.metrics.v1;
const MReq = m1.ExportMetricsServiceRequest;
const MResp = m1.ExportMetricsServiceResponse;

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const mode = (args.mode || 'ok').split(':');
let served = 0;

const hex = (b64) => Buffer.from(b64 || '', 'base64').toString('hex');
const b64 = (h, len, what) => {
	if (typeof h !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(h))
		throw new Error(`${what} is not ${len} lower-case hex digits: ${JSON.stringify(h)}`);
	return Buffer.from(h, 'hex').toString('base64');
};

function value(v) {
	if ('stringValue' in v) return v.stringValue;
	if ('intValue' in v) return { int: String(v.intValue) };
	if ('doubleValue' in v) return { double: v.doubleValue };
	if ('boolValue' in v) return v.boolValue;
	return { other: v };
}
const attrs = (list) => Object.fromEntries((list || []).map((kv) => [kv.key, value(kv.value)]));

// A decoded request (toObject with longs as strings, bytes base64) -> plain spans.
function flatten(obj) {
	const out = [];
	for (const rs of obj.resourceSpans || []) {
		const resource = attrs(rs.resource && rs.resource.attributes);
		for (const ss of rs.scopeSpans || []) {
			for (const s of ss.spans || []) {
				out.push({
					resource,
					scope: ss.scope ? { name: ss.scope.name, version: ss.scope.version } : null,
					traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
					name: s.name, kind: s.kind,
					start: String(s.startTimeUnixNano), end: String(s.endTimeUnixNano),
					attributes: attrs(s.attributes),
					events: (s.events || []).map((e) => ({ time: String(e.timeUnixNano), name: e.name, attributes: attrs(e.attributes) })),
					status: s.status ? { code: s.status.code || 0, message: s.status.message || '' } : { code: 0, message: '' },
				});
			}
		}
	}
	return out;
}

const toObj = (m) => Req.toObject(m, { longs: String, enums: Number, bytes: String, defaults: false });
const toMObj = (m) => MReq.toObject(m, { longs: String, enums: Number, bytes: String, defaults: false });

// A decoded metrics request -> plain data points, one per line of output.
function flattenMetrics(obj) {
	const out = [];
	for (const rm of obj.resourceMetrics || []) {
		const resource = attrs(rm.resource && rm.resource.attributes);
		for (const sm of rm.scopeMetrics || []) {
			for (const m of sm.metrics || []) {
				const type = ['exponentialHistogram', 'histogram', 'sum', 'gauge'].find((t) => m[t]);
				if (!type) throw new Error(`metric ${m.name} has no data`);
				const d = m[type];
				for (const p of d.dataPoints || []) {
					const q = {
						resource, scope: sm.scope ? { name: sm.scope.name, version: sm.scope.version } : null,
						name: m.name, unit: m.unit, type,
						temporality: d.aggregationTemporality || 0, monotonic: !!d.isMonotonic,
						attributes: attrs(p.attributes),
						start: String(p.startTimeUnixNano || 0), time: String(p.timeUnixNano || 0),
					};
					if (type === 'exponentialHistogram') {
						Object.assign(q, { count: String(p.count || 0), sum: p.sum || 0, scale: p.scale || 0,
							zeroCount: String(p.zeroCount || 0),
							offset: (p.positive && p.positive.offset) || 0,
							bucketCounts: ((p.positive && p.positive.bucketCounts) || []).map(String),
							negative: p.negative ? (p.negative.bucketCounts || []).length : 0 });
					} else if (type === 'histogram') {
						Object.assign(q, { count: String(p.count || 0), sum: p.sum || 0,
							bucketCounts: (p.bucketCounts || []).map(String), explicitBounds: p.explicitBounds || [] });
					} else {
						q.value = 'asInt' in p ? String(p.asInt) : p.asDouble !== undefined ? p.asDouble : 0;
					}
					if (p.min !== undefined) q.min = p.min;
					if (p.max !== undefined) q.max = p.max;
					out.push(q);
				}
			}
		}
	}
	return out;
}

function decodeMetricsJson(text) {
	const msg = MReq.fromObject(JSON.parse(text));
	const err = MReq.verify(msg);
	if (err) throw new Error(`not an ExportMetricsServiceRequest: ${err}`);
	return toMObj(msg);
}

function decodeJson(text) {
	const j = JSON.parse(text);
	for (const rs of j.resourceSpans || [])
		for (const ss of rs.scopeSpans || [])
			for (const s of ss.spans || []) {
				s.traceId = b64(s.traceId, 32, 'traceId');
				s.spanId = b64(s.spanId, 16, 'spanId');
				if (s.parentSpanId !== undefined) s.parentSpanId = b64(s.parentSpanId, 16, 'parentSpanId');
			}
	// fromObject applies the protobuf JSON mapping (64-bit integers as decimal strings)
	const msg = Req.fromObject(j);
	const err = Req.verify(msg);
	if (err) throw new Error(`not an ExportTraceServiceRequest: ${err}`);
	return toObj(msg);
}

function answer(res, json, status, extra, partial, metrics) {
	const headers = Object.assign({ 'Content-Type': json ? 'application/json' : 'application/x-protobuf' }, extra);
	const R = metrics ? MResp : Resp, key = metrics ? 'rejectedDataPoints' : 'rejectedSpans';
	let body;
	if (status !== 200) body = Buffer.alloc(0);
	else if (json) body = Buffer.from(JSON.stringify(partial ? { partialSuccess: { [key]: String(partial), errorMessage: 'test rejects some' } } : {}));
	else body = Buffer.from(R.encode(R.fromObject(partial ? { partialSuccess: { [key]: partial, errorMessage: 'test rejects some' } } : {})).finish());
	res.writeHead(status, headers);
	res.end(body);
}

const tls = args.tls ? {
	key: fs.readFileSync(`${args.tls}/server.key`), cert: fs.readFileSync(`${args.tls}/server.crt`),
	ca: fs.readFileSync(`${args.tls}/ca.crt`), mtls: !!args.mtls,
} : null;
const handler = (req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const n = ++served;
		let raw = Buffer.concat(chunks), spans = null, points = null, error = null;
		const gzip = req.headers['content-encoding'] === 'gzip';
		const json = (req.headers['content-type'] || '').startsWith('application/json');
		const metrics = req.url === '/v1/metrics';
		try {
			if (req.method !== 'POST' || (req.url !== '/v1/traces' && !metrics)) throw new Error(`${req.method} ${req.url}`);
			const body = gzip ? zlib.gunzipSync(raw) : raw;
			if (args.capture && n === 1) fs.writeFileSync(args.capture, body);
			if (metrics)
				points = flattenMetrics(json ? decodeMetricsJson(body.toString('utf8')) : toMObj(MReq.decode(body)));
			else
				spans = flatten(json ? decodeJson(body.toString('utf8')) : toObj(Req.decode(body)));
		} catch (e) {
			error = String(e.message || e);
		}
		let status = 200, extra = {}, partial = 0, delay = 0;
		if (error) status = 400;
		else if (mode[0] === 'fail' && n <= Number(mode[1])) {
			status = Number(mode[2]);
			if (mode[3]) extra['Retry-After'] = mode[3];
		} else if (mode[0] === 'status') status = Number(mode[1]);
		else if (mode[0] === 'slow') delay = Number(mode[1]);
		else if (mode[0] === 'partial') partial = Math.min(Number(mode[1]), (spans || points).length);
		const line = { n, path: req.url, status, gzip, json, contentType: req.headers['content-type'], userAgent: req.headers['user-agent'], testHeader: req.headers['x-test'] || null, partial, error, spans, points };
		fs.appendFileSync(args.out, JSON.stringify(line) + '\n');
		setTimeout(() => answer(res, json, status, extra, partial, metrics), delay);
	});
};
const server = tls
	? require('https').createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.mtls,
		rejectUnauthorized: tls.mtls }, handler)
	: http.createServer(handler);

function listening(port) {
	if (args['port-file']) {
		fs.writeFileSync(args['port-file'] + '.tmp', String(port));
		fs.renameSync(args['port-file'] + '.tmp', args['port-file']);
	}
	process.stdout.write(`port ${port}\n`);
}

// google.rpc.Status with one RetryInfo detail of `s` seconds, for grpc-status-details-bin
function retryInfoStatus(code, s) {
	const varint = (v) => { const b = []; do { let c = v & 0x7f; v >>>= 7; if (v) c |= 0x80; b.push(c); } while (v); return Buffer.from(b); };
	const field = (n, buf) => Buffer.concat([varint((n << 3) | 2), varint(buf.length), buf]);
	const duration = Buffer.concat([varint(1 << 3), varint(s)]);
	const retryInfo = field(1, duration);
	const any = Buffer.concat([field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, retryInfo)]);
	return Buffer.concat([varint(1 << 3), varint(code), field(3, any)]);
}

if (args.grpc) {
	const grpc = require('@grpc/grpc-js');
	const grpcServer = new grpc.Server();
	// one Export handler per service: the trace and the metrics service
	const exportOf = (metrics) => (call, callback) => {
		const n = ++served;
		const raw = call.request; // already decompressed by grpc-js (grpc-encoding)
		let spans = null, points = null, error = null;
		try {
			if (args.capture && n === 1) fs.writeFileSync(args.capture, raw);
			if (metrics) points = flattenMetrics(toMObj(MReq.decode(raw)));
			else spans = flatten(toObj(Req.decode(raw)));
		} catch (e) {
			error = String(e.message || e);
		}
		const md = call.metadata.getMap();
		let status = 0, partial = 0, delay = 0, details = null;
		if (error) status = 3;
		else if (mode[0] === 'fail' && n <= Number(mode[1])) {
			status = Number(mode[2]);
			if (mode[3]) details = retryInfoStatus(status, Number(mode[3]));
		} else if (mode[0] === 'status') status = Number(mode[1]);
		else if (mode[0] === 'slow') delay = Number(mode[1]);
		else if (mode[0] === 'partial') partial = Math.min(Number(mode[1]), (spans || points).length);
		// grpc-js decompresses (grpc-encoding) and keeps grpc-* headers to itself: gzip unknown
		const line = { n, t: Date.now(), path: metrics ? '/v1/metrics' : '/v1/traces', status, grpc: true, gzip: null,
			userAgent: md['user-agent'] || null, testHeader: md['x-test'] || null, partial, error, spans, points };
		fs.appendFileSync(args.out, JSON.stringify(line) + '\n');
		const key = metrics ? 'rejectedDataPoints' : 'rejectedSpans';
		setTimeout(() => {
			if (status === 0)
				return callback(null, partial ? { partialSuccess: { [key]: partial, errorMessage: 'test rejects some' } } : {});
			const meta = new grpc.Metadata();
			if (details) meta.set('grpc-status-details-bin', details);
			callback({ code: status, details: error || `test status ${status}`, metadata: meta });
		}, delay);
	};
	const serviceOf = (path, R) => ({
		Export: {
			path, requestStream: false, responseStream: false,
			requestSerialize: (b) => b, requestDeserialize: (b) => b,
			responseSerialize: (m) => Buffer.from(R.encode(R.fromObject(m)).finish()),
			responseDeserialize: (b) => b,
		},
	});
	grpcServer.addService(serviceOf('/opentelemetry.proto.collector.trace.v1.TraceService/Export', Resp),
		{ Export: exportOf(false) });
	grpcServer.addService(serviceOf('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', MResp),
		{ Export: exportOf(true) });
	const creds = tls ? grpc.ServerCredentials.createSsl(tls.ca, [{ private_key: tls.key, cert_chain: tls.cert }], tls.mtls)
		: grpc.ServerCredentials.createInsecure();
	grpcServer.bindAsync('127.0.0.1:0', creds, (err, port) => {
		if (err) throw err;
		listening(port);
	});
	process.on('SIGTERM', () => grpcServer.tryShutdown(() => process.exit(0)));
} else {
	server.listen(0, '127.0.0.1', () => listening(server.address().port));
	process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
