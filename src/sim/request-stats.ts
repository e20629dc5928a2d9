/** What `GET /sim/stats` reports: API requests since start, by verb and by resource (control paths excluded). */
export interface SimStats {
  requests: number;
  byVerb: Record<string, number>;
  byResource: Record<string, number>;
}

/** Counts API requests as the apiserver's audit log would name them (verb + resource[/subresource]). */
export class RequestStats {
  private requests = 0;
  private readonly byVerb = new Map<string, number>();
  private readonly byResource = new Map<string, number>();

  record(verb: string, resource: string | undefined): void {
    this.requests += 1;
    this.byVerb.set(verb, (this.byVerb.get(verb) ?? 0) + 1);
    if (resource !== undefined) this.byResource.set(resource, (this.byResource.get(resource) ?? 0) + 1);
  }

  snapshot(): SimStats {
    return {
      requests: this.requests,
      byVerb: Object.fromEntries(this.byVerb),
      byResource: Object.fromEntries(this.byResource),
    };
  }
}
