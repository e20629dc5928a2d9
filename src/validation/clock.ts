import { type Clock, systemClock } from '../cluster/clock.js';

/**
 * validate and watch compare their clock with the API's timestamps (creation, termination), so their clock reads
 * wall time (epoch milliseconds), unlike the API client's monotonic one. Tests inject a fake one.
 */
export function wallClock(): Clock {
  return { now: () => Date.now(), sleep: systemClock().sleep };
}
