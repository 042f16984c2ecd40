// What a change does (Action) and, for replacements and deletions, why (Reason).

export type Action = 'no-op' | 'create' | 'update' | 'delete-then-create' | 'create-then-delete' | 'delete' | 'read';

export type Reason =
  | 'tainted' // the object was marked as damaged (a failed create)
  | 'requested' // --replace named it
  | 'cannot-update' // an attribute that cannot change in place changed
  | 'no-config' // no longer in the configuration
  | 'drift'; // the object is gone or differs on the host

/** The symbol shown in front of a change, as Terraform users know them. */
export function actionSymbol(a: Action): string {
  switch (a) {
    case 'create':
      return '+';
    case 'update':
      return '~';
    case 'delete':
      return '-';
    case 'delete-then-create':
      return '-/+';
    case 'create-then-delete':
      return '+/-';
    case 'read':
      return '<=';
    case 'no-op':
      return ' ';
  }
}
