// The Routing page's model: a configuration as the editor's fields hold it (text the user
// types), the API's field violations placed by those fields, the diff of two versions and the
// simulator's answer in words. The API validates; the page never second-guesses it.
import type {
  FieldViolation,
  RoutingConfig,
  RoutingConfigUpdateParams,
  RoutingSimulation,
} from "@payloops/sdk";
import { formatAmount } from "$lib/format";

type Rule = RoutingConfig["rules"][number];
type Candidate = RoutingSimulation["candidates"][number];

export interface RuleDraft {
  /** Keeps a rule's fields attached to it while rules move. */
  key: number;
  name: string;
  currencies: string;
  amountMin: string;
  amountMax: string;
  cardNetworks: string;
  cardFunding: string;
  cardCountries: string;
  paymentMethodTypes: string;
  /** `plan=pro, tier=gold` */
  metadata: string;
  target: "failover" | "split";
  /** `stripe, *` */
  processors: string;
  /** `sandbox:70, sandbox-b:30` */
  split: string;
}

export interface ConfigDraft {
  rules: RuleDraft[];
  mode: string;
  unknownOutcomePolicy: string;
  maxAttempts: string;
  paymentBudget: string;
  resolutionBudget: string;
}

let nextKey = 1;

const list = (text: string): string[] =>
  text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

/** A whole number the user typed; 0 when empty, NaN when not a number (the API says so). */
const integer = (text: string): number => (text.trim() === "" ? 0 : Number(text.trim()));

export function metadataOf(text: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of list(text)) {
    const at = item.indexOf("=");
    pairs[(at < 0 ? item : item.slice(0, at)).trim()] = at < 0 ? "" : item.slice(at + 1).trim();
  }
  return pairs;
}

const metadataText = (metadata: Record<string, string> | undefined): string =>
  Object.entries(metadata ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");

const amountText = (amount: number): string => (amount ? String(amount) : "");

export function emptyRule(): RuleDraft {
  return {
    key: nextKey++,
    name: "",
    currencies: "",
    amountMin: "",
    amountMax: "",
    cardNetworks: "",
    cardFunding: "",
    cardCountries: "",
    paymentMethodTypes: "",
    metadata: "",
    target: "failover",
    processors: "",
    split: "",
  };
}

export function draftOf(config: RoutingConfig): ConfigDraft {
  return {
    rules: config.rules.map((rule) => ({
      key: nextKey++,
      name: rule.name,
      currencies: (rule.conditions?.currencies ?? []).join(", "),
      amountMin: amountText(rule.conditions?.amountMin ?? 0),
      amountMax: amountText(rule.conditions?.amountMax ?? 0),
      cardNetworks: (rule.conditions?.cardNetworks ?? []).join(", "),
      cardFunding: (rule.conditions?.cardFunding ?? []).join(", "),
      cardCountries: (rule.conditions?.cardCountries ?? []).join(", "),
      paymentMethodTypes: (rule.conditions?.paymentMethodTypes ?? []).join(", "),
      metadata: metadataText(rule.conditions?.metadata),
      target: rule.split ? "split" : "failover",
      processors: (rule.failover?.processors ?? []).join(", "),
      split: (rule.split?.targets ?? []).map((t) => `${t.processor}:${t.weight}`).join(", "),
    })),
    mode: config.mode,
    unknownOutcomePolicy: config.unknownOutcomePolicy,
    maxAttempts: String(config.maxAttempts),
    paymentBudget: config.paymentBudget ?? "",
    resolutionBudget: config.resolutionBudget ?? "",
  };
}

type RuleParams = NonNullable<RoutingConfigUpdateParams["rules"]>[number];

function ruleOf(draft: RuleDraft): RuleParams {
  const conditions = {
    currencies: list(draft.currencies).map((code) => code.toUpperCase()),
    amountMin: integer(draft.amountMin),
    amountMax: integer(draft.amountMax),
    cardNetworks: list(draft.cardNetworks),
    cardFunding: list(draft.cardFunding),
    cardCountries: list(draft.cardCountries).map((code) => code.toUpperCase()),
    paymentMethodTypes: list(draft.paymentMethodTypes),
    metadata: metadataOf(draft.metadata),
  };
  if (draft.target === "split") {
    const targets = list(draft.split).map((item) => {
      const at = item.lastIndexOf(":");
      return at < 0
        ? { processor: item, weight: 0 }
        : { processor: item.slice(0, at).trim(), weight: integer(item.slice(at + 1)) };
    });
    return { name: draft.name.trim(), conditions, split: { targets } };
  }
  return { name: draft.name.trim(), conditions, failover: { processors: list(draft.processors) } };
}

/** The draft as the API takes it: what PUT /v1/routing, simulate and what-if are sent. */
export function configOf(draft: ConfigDraft): RoutingConfigUpdateParams {
  return {
    rules: draft.rules.map(ruleOf),
    mode: draft.mode as RoutingConfigUpdateParams["mode"],
    unknownOutcomePolicy: draft.unknownOutcomePolicy as RoutingConfigUpdateParams["unknownOutcomePolicy"],
    maxAttempts: integer(draft.maxAttempts),
    ...(draft.paymentBudget.trim() ? { paymentBudget: draft.paymentBudget.trim() } : {}),
    ...(draft.resolutionBudget.trim() ? { resolutionBudget: draft.resolutionBudget.trim() } : {}),
  };
}

/** The fields of a rule the editor shows; a violation goes to the one its path is under. */
export const RULE_FIELDS = [
  "name",
  "conditions.currencies",
  "conditions.amount_min",
  "conditions.amount_max",
  "conditions.card_networks",
  "conditions.card_funding",
  "conditions.card_countries",
  "conditions.payment_method_types",
  "conditions.metadata",
  "target",
] as const;
export const SETTINGS_FIELDS = [
  "rules",
  "mode",
  "unknown_outcome_policy",
  "max_attempts",
  "payment_budget",
  "resolution_budget",
] as const;

/** Where a violation's field path shows: the editor's field it is in (a rule's failover or
 * split list under the rule's `target`), `""` for none. The simulator's own request names the
 * draft `routing_config.…`; the payment's fields are `payment.…`. */
export function slotOf(field: string, ruleCount: number): string {
  const path = field.replace(/^routing_config\./, "");
  const rule = /^rules\[(\d+)\](?:\.(.*))?$/.exec(path);
  if (rule) {
    const index = Number(rule[1]);
    const rest = (rule[2] ?? "").replace(/^(failover|split)\b.*/, "target");
    if (index >= ruleCount) return "rules";
    const named = RULE_FIELDS.find((name) => rest === name || rest.startsWith(`${name}[`) || rest.startsWith(`${name}.`));
    return `rules[${index}].${named ?? "name"}`;
  }
  const top = /^[a-z_]+(\.[a-z_]+)?/.exec(path)?.[0] ?? "";
  return top;
}

/** Violations by the slot they show in. */
export function violationsBySlot(
  violations: readonly FieldViolation[],
  ruleCount: number,
): Map<string, string[]> {
  const bySlot = new Map<string, string[]>();
  for (const violation of violations) {
    const slot = slotOf(violation.field, ruleCount);
    const text = `${violation.description} (${violation.reason})`;
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), text]);
  }
  return bySlot;
}

/** A rule in one line: its conditions, then where it sends a payment. */
export function describeRule(rule: Rule): string {
  const c = rule.conditions;
  const when: string[] = [];
  if (c?.currencies.length) when.push(`currency ${c.currencies.join(" or ")}`);
  if (c?.amountMin) when.push(`amount ≥ ${c.amountMin}`);
  if (c?.amountMax) when.push(`amount ≤ ${c.amountMax}`);
  if (c?.cardNetworks.length) when.push(`network ${c.cardNetworks.join(" or ")}`);
  if (c?.cardFunding.length) when.push(`funding ${c.cardFunding.join(" or ")}`);
  if (c?.cardCountries.length) when.push(`card from ${c.cardCountries.join(" or ")}`);
  if (c?.paymentMethodTypes.length) when.push(`method ${c.paymentMethodTypes.join(" or ")}`);
  for (const [key, value] of Object.entries(c?.metadata ?? {})) when.push(`${key}=${value}`);
  const target = rule.split
    ? `split ${rule.split.targets.map((t) => `${t.processor} ${t.weight}`).join(" / ")}`
    : `failover ${(rule.failover?.processors ?? []).join(" → ")}`;
  return `${when.length ? when.join(", ") : "any payment"}: ${target}`;
}

function settingsOf(config: RoutingConfig): [string, string][] {
  return [
    ["Mode", config.mode],
    ["Unknown outcome", config.unknownOutcomePolicy],
    ["Max attempts", String(config.maxAttempts)],
    ["Payment budget", config.paymentBudget ?? ""],
    ["Resolution budget", config.resolutionBudget ?? ""],
  ];
}

export interface Change {
  what: string;
  before: string;
  after: string;
}

/** What changed from `before` to `after`: settings, then rules by name (added, removed,
 * changed, moved). */
export function diffConfigs(before: RoutingConfig, after: RoutingConfig): Change[] {
  const changes: Change[] = [];
  const afterSettings = new Map(settingsOf(after));
  for (const [what, value] of settingsOf(before)) {
    const now = afterSettings.get(what) ?? "";
    if (now !== value) changes.push({ what, before: value, after: now });
  }
  const afterRules = new Map(after.rules.map((rule, index) => [rule.name, { rule, index }]));
  const beforeNames = new Set(before.rules.map((rule) => rule.name));
  before.rules.forEach((rule, index) => {
    const now = afterRules.get(rule.name);
    if (!now) {
      changes.push({ what: `Rule “${rule.name}”`, before: describeRule(rule), after: "removed" });
      return;
    }
    const was = describeRule(rule);
    const is = describeRule(now.rule);
    if (was !== is) changes.push({ what: `Rule “${rule.name}”`, before: was, after: is });
    if (now.index !== index) {
      changes.push({ what: `Rule “${rule.name}” position`, before: String(index + 1), after: String(now.index + 1) });
    }
  });
  for (const rule of after.rules) {
    if (!beforeNames.has(rule.name)) {
      changes.push({ what: `Rule “${rule.name}”`, before: "absent", after: describeRule(rule) });
    }
  }
  return changes;
}

const CANDIDATE_REASONS: Record<string, string> = {
  rule_order: "in the rule's order",
  split_draw: "the split's draw",
  success_rate: "its recent success rate",
  fallback: "as a fallback",
  circuit_half_open: "as a fallback past its breaker's cool-down",
};

/** A candidate's reason in words ("circuit_open" → "circuit open"). */
export const reasonText = (reason: string): string =>
  CANDIDATE_REASONS[reason] ?? reason.replaceAll("_", " ");

export interface SimulatedPaymentForm {
  amount: number;
  currency: string;
  cardNetwork: string;
  cardCountry: string;
  metadata: string;
}

/** The simulator's answer as a sentence: "A €25.00 visa payment from DE with metadata
 * plan=pro would go to stripe, then sandbox, because rule “eu” matched …". */
export function simulationSentence(payment: SimulatedPaymentForm, answer: RoutingSimulation): string {
  const what = [
    `A ${formatAmount(payment.amount, payment.currency)}`,
    payment.cardNetwork ? ` ${payment.cardNetwork}` : "",
    " payment",
    payment.cardCountry ? ` from ${payment.cardCountry.toUpperCase()}` : "",
    payment.metadata.trim() ? ` with metadata ${list(payment.metadata).join(", ")}` : "",
  ].join("");
  const by = answer.draft ? "the draft" : `version ${answer.configVersion}`;
  const tried = answer.candidates.filter((c: Candidate) => c.decision === "candidate");
  if (!answer.rule) {
    return `${what} would fail with ${answer.failureCode || "routing_no_match"}: no rule of ${by} matches it.`;
  }
  if (tried.length === 0) {
    return `${what} would match rule “${answer.rule}” of ${by} and fail with ${answer.failureCode || "no_processor_available"}: every processor it names is skipped.`;
  }
  // The rule's own order needs no saying; a draw, a success rate or a fallback does.
  const order = tried
    .map((c: Candidate) => (c.reason === "rule_order" ? c.processor : `${c.processor} (${reasonText(c.reason)})`))
    .join(", then ");
  return `${what} would go to ${order}, because rule “${answer.rule}” of ${by} matches it; at most ${answer.maxAttempts} attempts.`;
}
