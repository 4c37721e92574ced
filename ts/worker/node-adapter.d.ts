// comlink ships this adapter's types as node-adapter.d.ts, which NodeNext does not pair with the .mjs.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly Transferable[]): void;
    on(type: 'message', listener: (value: unknown) => void): void;
    off(type: 'message', listener: (value: unknown) => void): void;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
