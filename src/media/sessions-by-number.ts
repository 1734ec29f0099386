/**
 * Sessions by the media host's number for them, looked up for every received frame. Hosts
 * number a connection's sessions from 1 upwards, so numbers below DENSE_LIMIT index an array
 * (one load instead of a hash lookup); any other uint32 a host may send goes to a Map, so a
 * stray large number never makes the array sparse.
 */
export class SessionsByNumber<T> {
  private readonly dense: (T | undefined)[] = [];
  private readonly sparse = new Map<number, T>();

  get(session: number): T | undefined {
    return session >= 0 && session < DENSE_LIMIT ? this.dense[session] : this.sparse.get(session);
  }

  set(session: number, value: T): void {
    if (!(session >= 0 && session < DENSE_LIMIT)) {
      this.sparse.set(session, value);
      return;
    }
    // Grown one slot at a time with undefined: the array stays packed, never holey.
    while (this.dense.length <= session) this.dense.push(undefined);
    this.dense[session] = value;
  }

  delete(session: number): void {
    if (session >= 0 && session < DENSE_LIMIT) {
      if (session < this.dense.length) this.dense[session] = undefined;
    } else {
      this.sparse.delete(session);
    }
  }

  clear(): void {
    this.dense.length = 0;
    this.sparse.clear();
  }
}

/** Numbers below this index the array: at most 64 Ki slots (512 KB of pointers). */
const DENSE_LIMIT = 65_536;
