import type { ConcurrencyLimit } from '../../cluster/concurrency-limit.js';
import type { ClusterReader } from '../../cluster/reader.js';
import type { Event } from '../../kube/types.js';
import { definedProps } from '../../util/defined-props.js';
import type { EventGroup } from '../analyzers/facts.js';
import { classifyEvent, EVENT_CLASSES, type EventClass } from '../event-class.js';
import type { GatherProgress } from '../gather.js';
import { MessageShapes, messageShape } from '../message-shape.js';
import type { Evidence, Sample } from '../types.js';
import type { ErrorSink } from './error-sink.js';

// Runbook step 2, samples and their events: the Warning events of pods, classified and grouped.

const MAX_EVENT_GROUPS = 500;
const MAX_EVENTS_PER_SAMPLE = 20;
const EVENT_FIELD_SELECTOR = 'involvedObject.kind=Pod,type=Warning';

export interface EventAggregate {
  groups: Map<string, EventGroup>;
  /** The bit set of the classes of a Failed launcher's events (EVENT_CLASSES order); 0 when none were read. */
  bitsOf(namespace: string, name: string): number;
  /** namespace/name of a sampled pod -> its first few events, for the samples and the bundle. */
  sampleEvents: Map<string, Sample['events']>;
  /** Namespace -> storage key (namespace/name) of its first event left unread, for the namespaces cut at the cap. */
  cutoffs: Map<string, string>;
  /** Namespaces whose events could not be read at all (forbidden): their pods stand on their status alone. */
  unreadable: Set<string>;
}

export interface ReadEventsOptions {
  /** namespace/name of the pods sampled, whose events are kept whole (up to MAX_EVENTS_PER_SAMPLE). */
  sampled: ReadonlySet<string>;
  /** Events of Failed launchers read per namespace (and as many of other pods), at most. */
  cap: number;
}

/** The Warning events of the namespaces given to it, read as they are given; see startReadingEvents. */
export interface EventReading {
  /**
   * Reads the events of a namespace once all its Failed launchers are known: name -> the launcher's index in the
   * namespace. The event classes are kept in one array per namespace at these indexes: four bytes a launcher,
   * where a map keyed by namespace/name cost some hundred at 100k launchers. Twice the same namespace is a no-op.
   */
  add(namespace: string, launchers: ReadonlyMap<string, number>): void;
  /** Whether add() was called for this namespace. */
  has(namespace: string): boolean;
  /** Once every namespace is added: the aggregate, when their lists are read. */
  done(): Promise<EventAggregate>;
}

/**
 * The Warning events of pods (server-filtered: event strategy.go selectable fields `involvedObject.kind`, `type`)
 * in each namespace that holds Failed launchers, one paged list per namespace, `limit` lists at a time, each
 * started as soon as its namespace is added (gather adds a namespace when the pod list has moved past it, so
 * that the events are read while the rest of the pods stream by). A namespace's noise costs only its own pages and
 * can no longer starve another namespace's launchers of their events. Within a namespace the list is cut at `cap`
 * events of its Failed launchers (or as many of other pods'): an incident of 100k pods has hundreds of thousands of
 * events. Events of namespaces without Failed launchers are never read. VMI and vmim events are left out (the vmims
 * themselves carry the migration failures).
 */
export function startReadingEvents(
  reader: ClusterReader,
  options: ReadEventsOptions,
  limit: ConcurrencyLimit,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
): EventReading {
  const bitsByNamespace = new Map<string, Uint32Array>();
  const launchersByNamespace = new Map<string, ReadonlyMap<string, number>>();
  const aggregate: EventAggregate = {
    groups: new Map(),
    bitsOf: (namespace, name) => {
      const index = launchersByNamespace.get(namespace)?.get(name);
      return index === undefined ? 0 : (bitsByNamespace.get(namespace)?.[index] ?? 0);
    },
    sampleEvents: new Map(),
    cutoffs: new Map(),
    unreadable: new Set(),
  };
  let seen = 0;
  const shapes = new MessageShapes();
  const readNamespace = async (namespace: string, launchers: ReadonlyMap<string, number>) => {
    let launcherEvents = 0;
    let otherEvents = 0;
    let size = 0;
    for (const index of launchers.values()) size = Math.max(size, index + 1);
    const bits = new Uint32Array(size);
    bitsByNamespace.set(namespace, bits);
    const events = reader.list<Event>('events', { namespace, fieldSelector: EVENT_FIELD_SELECTOR });
    for await (const event of events) {
      const podName = event.involvedObject.name ?? '';
      const launcherIndex = launchers.get(podName);
      const onLauncher = launcherIndex !== undefined;
      if ((onLauncher ? launcherEvents : otherEvents) >= options.cap) {
        // Events are listed by key, `<namespace>/<involved object>.<id>`: every pod sorting before this one was
        // read whole.
        aggregate.cutoffs.set(namespace, `${namespace}/${event.metadata.name}`);
        break;
      }
      if (onLauncher) launcherEvents += 1;
      else otherEvents += 1;
      const eventClass = classifyEvent(event);
      const group = addEventToGroups(aggregate.groups, event, eventClass, shapes.of(event.message ?? ''));
      const podKey = `${namespace}/${podName}`;
      if (onLauncher) {
        group.onFailedLaunchers += 1;
        const bit = eventClass === 'other' ? 0 : 1 << EVENT_CLASSES.indexOf(eventClass);
        bits[launcherIndex] = (bits[launcherIndex] ?? 0) | bit;
      }
      if (options.sampled.has(podKey)) {
        let kept = aggregate.sampleEvents.get(podKey);
        if (!kept) {
          kept = [];
          aggregate.sampleEvents.set(podKey, kept);
        }
        if (kept.length < MAX_EVENTS_PER_SAMPLE) {
          kept.push(
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
      seen += 1;
      if (seen % 500 === 0) progress({ phase: 'events', done: seen });
    }
  };
  const reads: Array<Promise<void>> = [];
  return {
    add: (namespace, launchers) => {
      if (launchersByNamespace.has(namespace)) return;
      launchersByNamespace.set(namespace, launchers);
      // A cap of 0 reads no events at all (callers that need only the counts and migrations, e.g. findLoopingVmis).
      if (options.cap === 0) return;
      reads.push(
        limit.run(async () => {
          const before = sink.errors.length;
          await sink.guard(
            { verb: 'list', resource: 'events', namespace },
            () => readNamespace(namespace, launchers),
            undefined,
          );
          if (sink.errors.length > before) aggregate.unreadable.add(namespace);
        }),
      );
    },
    has: (namespace) => launchersByNamespace.has(namespace),
    done: async () => {
      await Promise.all(reads);
      progress({ phase: 'events', done: seen });
      return aggregate;
    },
  };
}

/** Whether the events of this pod lay, even partly, past its namespace's cap. */
export function eventsUnread(events: EventAggregate, namespace: string, name: string): boolean {
  const cutoff = events.cutoffs.get(namespace);
  // `${podKey}/` sorts after every `${podKey}.<id>` event key ('/' > '.') and before the next pod's.
  return cutoff !== undefined && `${namespace}/${name}/` > cutoff;
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
  shape = messageShape(event.message ?? ''),
): EventGroup {
  const involvedKind = event.involvedObject.kind ?? '';
  const reason = event.reason ?? '';
  let key = JSON.stringify([eventClass, involvedKind, reason, shape]);
  if (!groups.has(key) && groups.size >= MAX_EVENT_GROUPS)
    key = JSON.stringify([eventClass, involvedKind, reason]);
  const group = groups.get(key);
  const occurrences = event.count ?? 1;
  if (group) {
    group.objects += 1;
    group.occurrences += occurrences;
    // The example is the first by namespace/name, whatever order the events were read in. The event's key is
    // exampleKey(eventExample(event)), written out: this runs for every event, and most are not the first.
    const candidate = `${event.involvedObject.namespace ?? event.metadata.namespace ?? ''}/${event.involvedObject.name ?? event.metadata.name}/${event.message ?? ''}`;
    if (candidate < exampleKey(group.example)) group.example = eventExample(event);
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
