// Amounts and times as a merchant reads them: in the user's locale and time zone.
// The API counts money in a currency's minor unit (cents; yen; fils, a thousandth of a dinar):
// Intl knows each ISO 4217 currency's exponent, so 1000 JPY is ¥1,000 and 1000 KWD is 1.000 KD.

/** Digits after the decimal point in `currency` (JPY 0, EUR 2, KWD 3). */
export function currencyExponent(currency: string): number {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency });
    return format.resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `minor` units of `currency` in the user's locale: formatAmount(2550, "EUR") → "€25.50". */
export function formatAmount(minor: number, currency: string, locale?: string): string {
  const code = currency.toUpperCase();
  const exponent = currencyExponent(code);
  const major = minor / 10 ** exponent;
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency: code,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    }).format(major);
  } catch {
    return `${major.toFixed(exponent)} ${code}`;
  }
}

/** A decimal amount typed by the user ("12.5") in minor units of `currency`; null when it is
 * not a positive amount with at most the currency's digits. */
export function parseAmount(text: string, currency: string): number | null {
  const exponent = currencyExponent(currency.toUpperCase());
  const match = /^\s*(\d+)(?:[.,](\d*))?\s*$/.exec(text);
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (fraction.length > exponent) return null;
  const minor = Number(match[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, "0") || "0");
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}

/** A minor amount as the plain decimal the user would type ("25.50", "1000", "1.250"). */
export function toDecimal(minor: number, currency: string): string {
  const exponent = currencyExponent(currency.toUpperCase());
  return (minor / 10 ** exponent).toFixed(exponent);
}

/** A time in the user's time zone and locale. */
export function formatTime(time: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }).format(time);
}

/** The same time in UTC (ISO 8601), shown on hover. */
export function utcTitle(time: Date): string {
  return `${time.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")} UTC`;
}

/** "0.034s" (a protobuf Duration on the wire) in milliseconds, as "34 ms". */
export function formatLatency(duration: string | undefined): string {
  if (!duration) return "—";
  const seconds = Number.parseFloat(duration);
  return Number.isFinite(seconds) ? `${Math.round(seconds * 1000)} ms` : duration;
}
