import { InvalidArgumentError } from "commander";

/** A commander parser of a number of seconds in (0, max], returned as milliseconds. */
export function secondsArgument(max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!(Number.isFinite(n) && n > 0 && n <= max))
      throw new InvalidArgumentError(`must be a number of seconds in (0, ${max}].`);
    return Math.round(n * 1000);
  };
}
