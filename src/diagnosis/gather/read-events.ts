import type { ClusterReader } from '../../cluster/reader.js';
import type { Event } from '../../kube/types.js';
import { LAUNCHER_NAME_PREFIX } from '../../launcher/launcher-pod.js';
import { definedProps } from '../../util/defined-props.js';
import type { EventGroup } from '../analyzers/facts.js';
import { classifyEvent, EVENT_CLASSES, type EventClass } from '../event-class.js';
import type { GatherProgress } from '../gather.js';
import { messageShape } from '../message-shape.js';
import type { Evidence, Sample } from '../types.js';
import type { ErrorSink } from './error-sink.js';

// Runbook step 2, samples and their events: the Warning events of pods, classified and grouped.

const MAX_EVENT_GROUPS = 500;
const MAX_EVENTS_PER_SAMPLE = 20;
const EVENT_FIELD_SELECTOR = 'involvedObject.kind=Pod,type=Warning';

/** The Warning events read of one pod. */
export interface PodEvents {
  /** Bit set of the classes of its events (EVENT_CLASSES order). */
  bits: number;
  /** The first few, for samples and the bundle. */
  events: Sample['events'];
  /** Set once the pod list shows it is a Failed launcher. */
  onFailedLauncher: boolean;
}

export interface EventAggregate {
  groups: Map<string, EventGroup>;
  /** namespace/name of a pod -> its events read (at most one entry per event read: bounded by the budget). */
  byPod: Map<string, PodEvents>;
  /** Each pod event read, by group, to count the events on Failed launchers once the pods are known. */
  onPods: Array<{ group: EventGroup; podKey: string }>;
  /** Storage key (namespace/name) of the first event left unread; undefined when every event was read. */
  cutoff: string | undefined;
}

/**
 * One cluster-wide list (or one namespace's, with -n) of the Warning events of pods, filtered by the server
 * (event strategy.go selectable fields `involvedObject.kind`, `type`), read before the pods and cut at the
 * budget: a 100k-pod incident has hundreds of thousands of events, and reading them all, or one list per
 * namespace, would cost more requests than the pods themselves. The budget counts the events of pods named
 * virt-launcher-*; other pods' events are read on the way, up to as many again, so that a noisy namespace
 * sorting first cannot spend the requests. VMI and vmim events are left out (the vmims themselves carry the
 * migration failures).
 */
export async function readEvents(
  reader: ClusterReader,
  namespace: string | undefined,
  eventBudget: number,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
): Promise<EventAggregate> {
  const aggregate: EventAggregate = { groups: new Map(), byPod: new Map(), onPods: [], cutoff: undefined };
  let launcherEvents = 0;
  let otherEvents = 0;
  const read = async () => {
    const events = reader.list<Event>('events', {
      fieldSelector: EVENT_FIELD_SELECTOR,
      ...definedProps({ namespace }),
    });
    for await (const event of events) {
      const involved = event.involvedObject;
      const onLauncher = involved.kind === 'Pod' && (involved.name ?? '').startsWith(LAUNCHER_NAME_PREFIX);
      if ((onLauncher ? launcherEvents : otherEvents) >= eventBudget) {
        // Events are listed by key, `<namespace>/<involved object>.<id>`: every pod sorting before this one
        // was read whole.
        aggregate.cutoff = `${event.metadata.namespace ?? ''}/${event.metadata.name}`;
        break;
      }
      if (onLauncher) launcherEvents += 1;
      else otherEvents += 1;
      const eventClass = classifyEvent(event);
      const group = addEventToGroups(aggregate.groups, event, eventClass);
      if (involved.kind === 'Pod') {
        const podKey = `${involved.namespace ?? event.metadata.namespace ?? ''}/${involved.name ?? ''}`;
        aggregate.onPods.push({ group, podKey });
        let pod = aggregate.byPod.get(podKey);
        if (!pod) {
          pod = { bits: 0, events: [], onFailedLauncher: false };
          aggregate.byPod.set(podKey, pod);
        }
        if (eventClass !== 'other') pod.bits |= 1 << EVENT_CLASSES.indexOf(eventClass);
        if (pod.events.length < MAX_EVENTS_PER_SAMPLE) {
          pod.events.push(
            definedProps({
              type: event.type,
              reason: event.reason,
              message: event.message,
              count: event.count,
              lastTimestamp: event.lastTimestamp ?? event.eventTime ?? undefined,
            }),
          );
        }
      }
      const seen = launcherEvents + otherEvents;
      if (seen % 500 === 0) progress({ phase: 'events', done: seen });
    }
  };
  await sink.guard({ verb: 'list', resource: 'events', ...definedProps({ namespace }) }, read, undefined);
  progress({ phase: 'events', done: launcherEvents + otherEvents });
  return aggregate;
}

/** Whether the events of this pod (namespace/name) lay, even partly, past the budget. */
export function eventsUnread(events: EventAggregate, podKey: string): boolean {
  // `${podKey}/` sorts after every `${podKey}.<id>` event key ('/' > '.') and before the next pod's.
  return events.cutoff !== undefined && `${podKey}/` > events.cutoff;
}

/** Once the pods are known: how many of each group's events are on Failed launchers. */
export function countEventsOnFailedLaunchers(events: EventAggregate): void {
  for (const { group, podKey } of events.onPods) {
    if (events.byPod.get(podKey)?.onFailedLauncher) group.onFailedLaunchers += 1;
  }
}

export function sortedEventGroups(groups: Map<string, EventGroup>): EventGroup[] {
  return [...groups.values()].sort(
    (a, b) =>
      b.onFailedLaunchers - a.onFailedLaunchers ||
      b.objects - a.objects ||
      `${a.eventClass}/${a.involvedKind}/${a.reason}/${a.shape}`.localeCompare(
        `${b.eventClass}/${b.involvedKind}/${b.reason}/${b.shape}`,
      ),
  );
}

export function addEventToGroups(
  groups: Map<string, EventGroup>,
  event: Event,
  eventClass: EventClass,
): EventGroup {
  const involvedKind = event.involvedObject.kind ?? '';
  const reason = event.reason ?? '';
  const shape = messageShape(event.message ?? '');
  let key = JSON.stringify([eventClass, involvedKind, reason, shape]);
  if (!groups.has(key) && groups.size >= MAX_EVENT_GROUPS)
    key = JSON.stringify([eventClass, involvedKind, reason]);
  const group = groups.get(key);
  const occurrences = event.count ?? 1;
  if (group) {
    group.objects += 1;
    group.occurrences += occurrences;
    // The example is the first by namespace/name, whatever order the events were read in.
    if (exampleKey(eventExample(event)) < exampleKey(group.example)) group.example = eventExample(event);
    return group;
  }
  const created: EventGroup = {
    eventClass,
    involvedKind,
    reason,
    shape,
    objects: 1,
    occurrences,
    onFailedLaunchers: 0,
    example: eventExample(event),
  };
  groups.set(key, created);
  return created;
}

export function eventExample(event: Event): Evidence {
  return {
    kind: event.involvedObject.kind || 'Event',
    name: event.involvedObject.name ?? event.metadata.name,
    ...definedProps({
      namespace: event.involvedObject.namespace ?? event.metadata.namespace,
      reason: event.reason,
      message: event.message,
    }),
  };
}

export function exampleKey(evidence: Evidence): string {
  return `${evidence.namespace ?? ''}/${evidence.name}/${evidence.message ?? ''}`;
}
