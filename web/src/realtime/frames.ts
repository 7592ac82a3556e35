import type { ServerFrame as ServerSentFrame } from '../../../server/src/core/realtime/frames.ts';
import type { Json } from '../api/types';

/** Frames the server sends over /ws (the server's core/realtime/frames.ts), as JSON reaches the browser. */
export type ServerFrame = Json<ServerSentFrame>;

/** Frames the client may send: the gateway's own schema. */
export type { ClientFrame } from '../../../server/src/ws/client-frames.ts';
