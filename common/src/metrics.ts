import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * One Prometheus registry per process, so that tests running several services in one process keep their
 * figures apart. Services create their own instruments with the helpers below.
 */
export class Metrics {
  readonly registry: Registry;

  constructor(options: { service: string; defaultMetrics?: boolean }) {
    this.registry = new Registry();
    this.registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(
    name: string,
    help: string,
    options: { labelNames?: readonly L[]; buckets?: number[] } = {},
  ): Histogram<L> {
    return new Histogram({
      name,
      help,
      labelNames: options.labelNames ?? [],
      buckets: options.buckets ?? [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
