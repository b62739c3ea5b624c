/**
 * The demo's sample fleet: about fifty customers, a few inactive, one deleted, two that want the
 * same workspace name (the later one fails visibly instead of sharing), and one workspace on the
 * remote that no customer owns (reported as an orphan, never touched).
 */

export interface DemoCustomer {
  readonly id: string;
  readonly name: string;
  readonly status: 'active' | 'inactive' | 'deleted';
}

const NAMES = [
  'Acme Corp',
  'Globex',
  'Initech',
  'Umbrella Health',
  'Hooli',
  'Vandelay Industries',
  'Stark Analytics',
  'Wayne Logistics',
  'Wonka Foods',
  'Cyberdyne Systems',
  'Soylent Labs',
  'Tyrell Robotics',
  'Massive Dynamic',
  'Aperture Science',
  'Black Mesa',
  'Oscorp',
  'Pied Piper',
  'Dunder Mifflin',
  'Prestige Worldwide',
  'Bluth Company',
  'Gringotts',
  'Monarch Solutions',
  'Nakatomi Trading',
  'Virtucon',
  'Weyland Yutani',
  'Sirius Cybernetics',
  'Los Pollos Hermanos',
  'Krusty Krab',
  'Planet Express',
  'Rekall',
  'Duff Brewing',
  'Gekko & Co',
  'Sterling Cooper',
  'Paper Street Soap',
  'Ollivanders',
  'Blue Sun',
  'Omni Consumer Products',
  'Ghostbusters Inc',
  'InGen',
  'Strickland Propane',
  'Kramerica',
  'Frobozz Magic',
  'Zorg Industries',
  'Buy n Large',
  'Spacely Sprockets',
  'Cogswell Cogs',
  'Mooby Foods',
];

/** The customers, by id (`cus_001`…); statuses and the name clash are fixed, so runs compare. */
export function demoCustomers(): DemoCustomer[] {
  const rows: DemoCustomer[] = NAMES.map((name, i) => ({
    id: `cus_${String(i + 1).padStart(3, '0')}`,
    name,
    status: [4, 11, 23, 35].includes(i) ? 'inactive' : i === 17 ? 'deleted' : 'active',
  }));
  // Created after cus_001, so cus_001 keeps "Acme Corp" and this one's syncs fail visibly.
  rows.push({ id: 'cus_acme_eu', name: 'Acme Corp', status: 'active' });
  return rows;
}

/** The remote workspace no customer links to. */
export const DEMO_ORPHAN_NAME = 'Legacy Pilot (no customer)';

/** The customer the printed webhook renames, and its new name. */
export const WEBHOOK_CUSTOMER = { id: 'cus_002', name: 'Globex Corporation' } as const;
