import type { Logger } from "./logger.ts";

type Task = { name: string; run: () => Promise<void> | void };

/**
 * Ordered shutdown: tasks run in reverse order of registration (last started, first stopped), each
 * bounded by a timeout, and every task runs even when an earlier one fails. `signal` aborts long loops.
 */
export class Shutdown {
  private readonly tasks: Task[] = [];
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get isShuttingDown(): boolean {
    return this.controller.signal.aborted;
  }

  add(name: string, run: Task["run"]): void {
    this.tasks.push({ name, run });
  }

  run(reason = "shutdown"): Promise<void> {
    this.running ??= this.runTasks(reason);
    return this.running;
  }

  private async runTasks(reason: string): Promise<void> {
    this.controller.abort(new Error(reason));
    this.logger.info({ reason }, "shutting down");
    for (const task of [...this.tasks].reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      try {
        await Promise.race([Promise.resolve().then(task.run), timeout]);
      } catch (error) {
        this.logger.error({ task: task.name, err: error }, "shutdown task failed");
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
