import { randomUUID } from 'node:crypto';
import type { ValidEvent } from '../../src/domain/cloudevent.js';

/** The process steps an Altinn app instance goes through: each instance publishes one event per step. */
const steps = ['app.instance.created', 'app.instance.process.movedTo.Task_1', 'app.instance.process.completed'] as const;
const apps = 40;
const parties = 1_000_000;
/** Instances open at once: an event either starts one or moves a random open one on a step. */
const openInstances = 5_000;

interface Instance {
  readonly app: number;
  readonly party: number;
  readonly guid: string;
  step: number;
}

/**
 * Altinn-shaped events as Herald stores them (`ValidEvent`): a source per app instance (a URL ending in the
 * instance's GUID) with a handful of events each, a GUID id, one of 40 resources, a subject and an
 * alternative subject per party out of a million, a `resourceinstance`, and about half a kilobyte of data.
 */
export class AltinnEvents {
  private readonly open: Instance[] = [];

  next(): ValidEvent {
    const instance = this.instance();
    const app = `app-${instance.app}`;
    const source = `https://ttd.apps.altinn.no/ttd/${app}/instances/${instance.party}/${instance.guid}`;
    const time = new Date().toISOString();
    const event = {
      specversion: '1.0',
      id: randomUUID(),
      source,
      type: steps[instance.step] ?? steps[0],
      subject: `/party/${instance.party}`,
      alternativesubject: `/person/${String(instance.party * 7919).padStart(11, '0').slice(-11)}`,
      resource: `urn:altinn:resource:app_ttd_${app}`,
      resourceinstance: `${instance.party}/${instance.guid}`,
      time,
      datacontenttype: 'application/json',
      data: {
        instanceId: `${instance.party}/${instance.guid}`,
        appId: `ttd/${app}`,
        instanceOwner: { partyId: String(instance.party), personNumber: null, organisationNumber: '910123456' },
        process: { currentTask: `Task_${instance.step + 1}`, started: time, startEvent: 'StartEvent_1' },
        dataElements: [{ id: randomUUID(), dataType: 'model', contentType: 'application/xml', size: 2048 }],
        lastChanged: time,
        lastChangedBy: '50015641',
      },
    };
    instance.step++;
    const payload = JSON.stringify(event);
    return {
      id: event.id,
      source,
      type: event.type,
      resource: event.resource,
      subject: event.subject,
      alternativesubject: event.alternativesubject,
      time,
      payload,
    };
  }

  batch(size: number): ValidEvent[] {
    return Array.from({ length: size }, () => this.next());
  }

  private instance(): Instance {
    if (this.open.length < openInstances && (this.open.length === 0 || Math.random() < 1 / steps.length)) {
      const created: Instance = {
        app: Math.floor(Math.random() * apps),
        party: 50_000_000 + Math.floor(Math.random() * parties),
        guid: randomUUID(),
        step: 0,
      };
      this.open.push(created);
      return created;
    }
    const place = Math.floor(Math.random() * this.open.length);
    const chosen = this.open[place] as Instance;
    if (chosen.step === steps.length - 1) {
      // Its last step: it leaves the open set (swap-remove).
      this.open[place] = this.open[this.open.length - 1] as Instance;
      this.open.pop();
    }
    return chosen;
  }
}
