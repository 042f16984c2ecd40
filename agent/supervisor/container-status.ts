// The container lifecycle as an explicit state machine. Every change of status goes
// through `transition`, which refuses moves the lifecycle does not have:
//
//   creating ──> created ──> running <──> paused
//      │            │          │            │
//      └────────────┴──────────┴────────────┴──> stopped ──> creating (start, restart)
import { AgentFailure } from '../rpc/failure.js';

export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

const ALLOWED: Readonly<Record<ContainerStatus, readonly ContainerStatus[]>> = {
  creating: ['created', 'stopped'],
  created: ['running', 'stopped'],
  running: ['paused', 'stopped'],
  paused: ['running', 'stopped'],
  stopped: ['creating'],
};

export function canTransition(from: ContainerStatus, to: ContainerStatus): boolean {
  return ALLOWED[from].includes(to);
}

export class ContainerLifecycle {
  constructor(
    private readonly name: string,
    private current: ContainerStatus = 'stopped',
  ) {}

  get status(): ContainerStatus {
    return this.current;
  }

  /** Moves to `to`; an impossible move is a user-visible error (pausing a stopped container), not a crash. */
  transition(to: ContainerStatus): void {
    if (!canTransition(this.current, to)) {
      throw new AgentFailure('E_CONTAINER_STATE', `container ${this.name} is ${this.current}: it cannot become ${to}`);
    }
    this.current = to;
  }
}
