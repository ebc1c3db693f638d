/** An instance that may host bots; `capacity` null means no limit. */
export interface PlacementInstance {
  readonly id: string;
  readonly capacity: number | null;
}

/** A bot's lease as the placement sees it: `live` when it has not lapsed. */
export interface PlacementLease {
  readonly botId: string;
  readonly owner: string;
  readonly live: boolean;
}

export interface PlacementInput {
  readonly bots: readonly string[];
  /** The instances alive now. */
  readonly instances: readonly PlacementInstance[];
  readonly leases: readonly PlacementLease[];
}

/**
 * Which instance should own each bot. A bot whose live lease sits on a live instance stays there
 * (moving a running bot costs a reconnect), as long as that instance has room: capacity is a hard
 * limit, so an instance whose capacity shrank keeps its first bots by id and sheds the rest.
 * Every other bot, in id order, goes to the least-loaded live instance with room, ties broken by
 * id; a bot no instance has room for is left out of the map. Every instance computes the same
 * answer from the same input, so they agree on who takes what without talking.
 */
export function placeBots(input: PlacementInput): Map<string, string> {
  const byId = new Map(input.instances.map((i) => [i.id, i]));
  const load = new Map(input.instances.map((i) => [i.id, 0]));
  const liveOwner = new Map(input.leases.filter((l) => l.live && byId.has(l.owner)).map((l) => [l.botId, l.owner]));
  const bots = [...new Set(input.bots)].sort(compare);
  const placement = new Map<string, string>();
  const hasRoom = (instance: PlacementInstance): boolean => instance.capacity === null || (load.get(instance.id) ?? 0) < instance.capacity;
  const place = (bot: string, instance: PlacementInstance): void => {
    placement.set(bot, instance.id);
    load.set(instance.id, (load.get(instance.id) ?? 0) + 1);
  };
  for (const bot of bots) {
    const ownerId = liveOwner.get(bot);
    const owner = ownerId === undefined ? undefined : byId.get(ownerId);
    if (owner !== undefined && hasRoom(owner)) place(bot, owner);
  }
  const candidates = [...byId.values()].sort((a, b) => compare(a.id, b.id));
  for (const bot of bots) {
    if (placement.has(bot)) continue;
    let best: PlacementInstance | undefined;
    for (const instance of candidates) {
      if (hasRoom(instance) && (best === undefined || (load.get(instance.id) ?? 0) < (load.get(best.id) ?? 0))) best = instance;
    }
    if (best !== undefined) place(bot, best);
  }
  return placement;
}

/**
 * The bots `self` should try to acquire: those placed on it that it does not hold yet, by id.
 * Giving up held bots placed elsewhere (its capacity shrank) is the caller's separate decision.
 */
export function botsToTake(self: string, placement: ReadonlyMap<string, string>, held: ReadonlySet<string>): string[] {
  return [...placement].filter(([bot, owner]) => owner === self && !held.has(bot)).map(([bot]) => bot).sort(compare);
}

// Plain code-unit order, the same on every instance whatever its locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
