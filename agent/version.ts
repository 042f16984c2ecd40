// The agent's own version, reported by `hello` (the protocol version is separate).
export const AGENT_VERSION = '0.1.0';
