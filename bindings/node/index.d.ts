// SPDX-License-Identifier: BSD-2-Clause
// TypeScript declarations of perfbpf's Node package (index.js).

export interface SpanOptions {
  symbol?: string;
  strategy?: string;
  attributes?: Record<string, string | number | boolean | bigint | Array<string | number | boolean>>;
}

export interface SpanStatus {
  /** 0 UNSET, 1 OK, 2 ERROR (OpenTelemetry's SpanStatusCode) */
  code: number;
  message?: string;
}

export declare class Span {
  readonly name: string;
  /** perfbpf's span id; 0 when no tracer wanted spans as it began */
  readonly id: number;
  isRecording(): boolean;
  setAttribute(key: string, value: unknown): this;
  setAttributes(attributes: Record<string, unknown>): this;
  addEvent(name: string, attributes?: Record<string, unknown>): this;
  recordException(err: unknown, fail?: boolean): void;
  setStatus(status: SpanStatus): this;
  end(): void;
}

/** One completed operation the engine timed itself, in ns. */
export declare function op(metric: string, durationNs: number | bigint, symbol?: string, strategy?: string): void;
/** The same in ms (performance.now() differences), kept to the ns. */
export declare function opMs(metric: string, durationMs: number, symbol?: string, strategy?: string): void;
/** fn(span) as the current span; it ends when fn returns or its promise settles. */
export declare function span<T>(name: string, fn: (span: Span) => T): T;
export declare function span<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T;
/** A span opened now under the current one, not made current: end() ends it. */
export declare function startSpan(name: string, options?: SpanOptions, parent?: Span | null): Span;
export declare function currentSpan(): Span | undefined;
/** Whether a tracer is attached. */
export declare function enabled(): boolean;
/** perfbpf's clock (CLOCK_MONOTONIC) in ns. */
export declare function nowNs(): number;
