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
 * (moving a running bot costs a reconnect) while that instance holds no more than its fair share
 * (bots over instances, rounded up) and has room: capacity is a hard limit. An instance over its
 * share keeps its first bots by id and sheds the rest, so a joining instance gets its part.
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
  const share = byId.size === 0 ? 0 : Math.ceil(bots.length / byId.size);
  const hasRoom = (instance: PlacementInstance): boolean => instance.capacity === null || (load.get(instance.id) ?? 0) < instance.capacity;
  const keeps = (instance: PlacementInstance): boolean => hasRoom(instance) && (load.get(instance.id) ?? 0) < share;
  const place = (bot: string, instance: PlacementInstance): void => {
    placement.set(bot, instance.id);
    load.set(instance.id, (load.get(instance.id) ?? 0) + 1);
  };
  for (const bot of bots) {
    const ownerId = liveOwner.get(bot);
    const owner = ownerId === undefined ? undefined : byId.get(ownerId);
    if (owner !== undefined && keeps(owner)) place(bot, owner);
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
 * Giving up held bots placed elsewhere is `botsToHandOver`.
 */
export function botsToTake(self: string, placement: ReadonlyMap<string, string>, held: ReadonlySet<string>): string[] {
  return [...placement].filter(([bot, owner]) => owner === self && !held.has(bot)).map(([bot]) => bot).sort(compare);
}

/**
 * The bots `self` holds that are placed on another instance (it holds more than its share, or
 * more than its capacity), by id: it hands them over gracefully. A held bot left unplaced (no
 * room anywhere) stays where it is: running somewhere beats running nowhere.
 */
export function botsToHandOver(self: string, placement: ReadonlyMap<string, string>, held: ReadonlySet<string>): string[] {
  return [...held].filter((bot) => {
    const owner = placement.get(bot);
    return owner !== undefined && owner !== self;
  }).sort(compare);
}

// Plain code-unit order, the same on every instance whatever its locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
