import tls from "node:tls";

/**
 * Counts TLS client connections this process opens from now on (every https.Agent connects
 * through tls.connect): with keep-alive working, a benchmark's measured part opens none.
 */
export function countTlsConnections(): { readonly count: number } {
  const counter = { count: 0 };
  const connect = tls.connect;
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    counter.count++;
    return connect(...args);
  }) as typeof tls.connect;
  return counter;
}
