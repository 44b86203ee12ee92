// The API's shapes, as far as the console reads them (docs/subscriptions.md, docs/delivery.md, docs/filters.md).

export interface Me {
  readonly consumer: string;
  readonly scopes: readonly string[];
  readonly operator: boolean;
}

export interface Health {
  readonly status: 'healthy' | 'degraded' | 'suspended' | string;
  readonly lastError?: string;
}

export interface Subscription {
  readonly id: number;
  readonly endPoint?: string;
  readonly sourceFilter?: string;
  readonly resourceFilter?: string;
  readonly subjectFilter?: string;
  readonly alternativeSubjectFilter?: string;
  readonly typeFilter?: string;
  readonly filters?: unknown[];
  readonly consumer: string;
  readonly created?: string;
  readonly validated?: boolean;
  readonly status: string;
  readonly lastError?: string;
  readonly disabledBy?: string;
  readonly health?: Health;
  readonly backlog?: number;
  readonly deadLetters?: number;
  readonly secret?: string;
}

export interface SubscriptionList {
  readonly count: number;
  readonly subscriptions: Subscription[];
  readonly next?: string;
}

export interface Delivery {
  readonly id: number;
  readonly eventId?: string;
  readonly status: string;
  readonly attempts: number;
  readonly lastStatusCode?: number;
  readonly lastError?: string;
  readonly deadAt?: string;
  readonly created?: string;
}

export interface DeliveryList {
  readonly count: number;
  readonly deliveries: Delivery[];
  readonly next?: string;
}

export interface Attempt {
  readonly id: number;
  readonly started?: string;
  readonly durationMs?: number;
  readonly statusCode?: number;
  readonly body?: string;
  readonly errorKind?: string;
  readonly error?: string;
}

export interface Sample {
  readonly time: string;
  readonly publishedPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly backlog: number;
  readonly deadLetters: number;
}

export interface Overview {
  readonly intervalSeconds: number;
  readonly samples: Sample[];
}

export interface CloudEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly [attribute: string]: unknown;
}
