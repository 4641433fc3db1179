// The dashboard's pages, in the order the navigation shows them. A new page adds its entry
// here; `owners` hides it from anyone else.
export interface NavItem {
  readonly href: string;
  readonly label: string;
  readonly owners?: boolean;
}

export const NAV: readonly NavItem[] = [
  { href: "/overview", label: "Overview" },
  { href: "/payments", label: "Payments" },
  { href: "/routing", label: "Routing" },
  { href: "/processors", label: "Processors" },
  { href: "/webhooks", label: "Webhooks" },
  { href: "/developers", label: "Developers" },
  { href: "/team", label: "Team", owners: true },
];
