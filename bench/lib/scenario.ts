import type { Deployment } from './backends.ts';
import type { ScenarioResult } from './report.ts';

export interface ScenarioContext {
  deployment: Deployment;
  quick: boolean;
  /** Write a CPU profile of the measured process(es) under bench/results/ and summarise it. */
  profile: boolean;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
