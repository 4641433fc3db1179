/*
 * The card field inside PayLoops' iframe (card-field.html). The only code that ever holds the
 * card number in the browser: it validates as the customer types, tokenizes with
 * POST /v1/tokens on its own origin (no CORS: the vault's origin is this page's), and tells
 * the embedding page only the token and what a receipt shows.
 *
 * Who embeds it is declared in the URL fragment by payloops.js (origin, publishable key,
 * style). Messages are read only from the parent window at that origin and sent only to it;
 * where the browser tells the real embedding origin (location.ancestorOrigins), a field
 * embedded by any other origin stays disabled.
 */
(function () {
  "use strict";

  // [brand, first prefix, last prefix, prefix digits]: the longest matching prefix decides
  // (the vault's own table, vault/cards.py).
  const BIN_RANGES = [
    ["visa", 4, 4, 1],
    ["mastercard", 51, 55, 2],
    ["mastercard", 2221, 2720, 4],
    ["amex", 34, 34, 2],
    ["amex", 37, 37, 2],
    ["discover", 6011, 6011, 4],
    ["discover", 644, 649, 3],
    ["discover", 65, 65, 2],
    ["jcb", 3528, 3589, 4],
    ["diners", 300, 305, 3],
    ["diners", 3095, 3095, 4],
    ["diners", 36, 36, 2],
    ["diners", 38, 39, 2],
    ["unionpay", 62, 62, 2],
    ["rupay", 508, 508, 3],
    ["rupay", 60, 60, 2],
    ["rupay", 6521, 6522, 4],
    ["rupay", 81, 82, 2],
  ];
  const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const LENGTHS = {
    visa: [13, 16, 19],
    mastercard: [16],
    amex: [15],
    discover: range(16, 19),
    jcb: range(16, 19),
    diners: range(14, 19),
    unionpay: range(16, 19),
    rupay: [16],
  };
  const BRAND_NAMES = {
    visa: "Visa", mastercard: "Mastercard", amex: "Amex", discover: "Discover", jcb: "JCB",
    diners: "Diners", unionpay: "UnionPay", rupay: "RuPay",
  };
  const MAX_YEARS_AHEAD = 50;
  // What the customer reads for each refusal, the field's or the vault's (its reasons).
  const MESSAGES = {
    CARD_NUMBER_INCOMPLETE: "The card number is incomplete.",
    CARD_NUMBER_INVALID: "The card number is not valid.",
    CARD_BRAND_UNSUPPORTED: "This card brand is not accepted.",
    EXPIRY_INCOMPLETE: "The expiry date is incomplete.",
    EXP_MONTH_INVALID: "The expiry month is not valid.",
    EXP_YEAR_INVALID: "The expiry year is not valid.",
    CARD_EXPIRED: "The card has expired.",
    CVC_INCOMPLETE: "The security code is incomplete.",
    CVC_INVALID: "The security code is not valid.",
    HOLDER_NAME_INVALID: "The cardholder name is not valid.",
    HOLDER_NAME_TOO_LONG: "The cardholder name is too long.",
  };
  const GENERIC_MESSAGE = "The card could not be saved. Please try again.";
  // Style properties a merchant may set, as the CSSOM names them; anything else is ignored.
  const STYLE_PROPERTIES = {
    color: "color", fontSize: "font-size", fontFamily: "font-family", fontWeight: "font-weight",
    letterSpacing: "letter-spacing", lineHeight: "line-height", backgroundColor: "background-color",
  };
  const STYLE_VALUE = /^[#(),.%\w\s"'-]{1,80}$/;

  const settings = new URLSearchParams(window.location.hash.slice(1));
  const parentOrigin = declaredParentOrigin(settings.get("origin"));
  const publishableKey = settings.get("key") || "";
  const inputs = {
    number: document.getElementById("number"),
    expiry: document.getElementById("expiry"),
    cvc: document.getElementById("cvc"),
  };
  const row = document.getElementById("row");
  const brandLabel = document.getElementById("brand");
  const errorLine = document.getElementById("error");
  const touched = { number: false, expiry: false, cvc: false };

  function declaredParentOrigin(origin) {
    if (!origin || window.parent === window) {
      return null;
    }
    let parsed;
    try {
      parsed = new URL(origin);
    } catch (_) {
      return null;
    }
    if (!/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      return null;
    }
    const ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length > 0 && ancestors[0] !== origin) {
      return null;
    }
    return origin;
  }

  function post(message) {
    window.parent.postMessage(message, parentOrigin);
  }

  // --- the card's facts -----------------------------------------------------------------

  function digitsOf(text) {
    return text.replace(/\D/g, "");
  }

  function brandOf(digits) {
    let best = null;
    let bestLength = 0;
    for (const [brand, first, last, length] of BIN_RANGES) {
      if (digits.length >= length && length > bestLength) {
        const prefix = Number(digits.slice(0, length));
        if (prefix >= first && prefix <= last) {
          best = brand;
          bestLength = length;
        }
      }
    }
    return best;
  }

  function luhnValid(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i += 1) {
      let digit = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) {
          digit -= 9;
        }
      }
      sum += digit;
    }
    return digits.length > 0 && sum % 10 === 0;
  }

  function maxLength(brand) {
    return brand ? Math.max(...LENGTHS[brand]) : 19;
  }

  function cvcLength(brand) {
    return brand === "amex" ? 4 : 3;
  }

  function expiryOf(text) {
    const [monthText = "", yearText = ""] = text.split("/").map((part) => digitsOf(part));
    const year = yearText.length === 2 ? 2000 + Number(yearText) : Number(yearText);
    return { month: Number(monthText), year: year, complete: monthText.length > 0 && (yearText.length === 2 || yearText.length === 4) };
  }

  // --- validation: {field, code} or null; `final` when the customer is done typing ---------

  function numberProblem(final) {
    const digits = digitsOf(inputs.number.value);
    const brand = brandOf(digits);
    if (digits.length === 0) {
      return final ? { field: "number", code: "CARD_NUMBER_INCOMPLETE" } : null;
    }
    if (digits.length >= 2 && brand === null) {
      return { field: "number", code: "CARD_BRAND_UNSUPPORTED" };
    }
    const lengths = brand ? LENGTHS[brand] : [];
    if (!lengths.includes(digits.length)) {
      if (digits.length < maxLength(brand) && !final) {
        return null;
      }
      return { field: "number", code: digits.length < maxLength(brand) ? "CARD_NUMBER_INCOMPLETE" : "CARD_NUMBER_INVALID" };
    }
    // A complete length that fails the Luhn check is a typo, unless a longer length is still
    // possible and the customer is typing.
    if (!luhnValid(digits) && (final || digits.length === maxLength(brand))) {
      return { field: "number", code: "CARD_NUMBER_INVALID" };
    }
    return null;
  }

  function expiryProblem(final) {
    const text = inputs.expiry.value;
    if (digitsOf(text).length === 0) {
      return final ? { field: "expiry", code: "EXPIRY_INCOMPLETE" } : null;
    }
    const { month, year, complete } = expiryOf(text);
    if (digitsOf(text.split("/")[0] || "").length >= 2 && (month < 1 || month > 12)) {
      return { field: "expiry", code: "EXP_MONTH_INVALID" };
    }
    if (!complete) {
      return final ? { field: "expiry", code: "EXPIRY_INCOMPLETE" } : null;
    }
    const now = new Date();
    const thisYear = now.getFullYear();
    if (year > thisYear + MAX_YEARS_AHEAD) {
      return { field: "expiry", code: "EXP_YEAR_INVALID" };
    }
    if (year < thisYear || (year === thisYear && month < now.getMonth() + 1)) {
      return { field: "expiry", code: "CARD_EXPIRED" };
    }
    return null;
  }

  function cvcProblem(final) {
    const cvc = digitsOf(inputs.cvc.value);
    const wanted = cvcLength(brandOf(digitsOf(inputs.number.value)));
    if (cvc.length === wanted) {
      return null;
    }
    if (cvc.length > wanted) {
      return { field: "cvc", code: "CVC_INVALID" };
    }
    return final ? { field: "cvc", code: cvc.length === 0 ? "CVC_INCOMPLETE" : "CVC_INVALID" } : null;
  }

  const CHECKS = { number: numberProblem, expiry: expiryProblem, cvc: cvcProblem };

  function problems(final) {
    return Object.keys(CHECKS)
      .map((field) => CHECKS[field](final || touched[field]))
      .filter((problem) => problem !== null);
  }

  // --- what the customer sees -------------------------------------------------------------

  function show(found) {
    for (const field of Object.keys(inputs)) {
      inputs[field].classList.toggle("invalid", found.some((problem) => problem.field === field));
    }
    row.classList.toggle("invalid", found.length > 0);
    errorLine.textContent = found.length > 0 ? MESSAGES[found[0].code] || GENERIC_MESSAGE : "";
    const invalidColor = style.invalid && style.invalid.color;
    if (invalidColor && STYLE_VALUE.test(invalidColor)) {
      errorLine.style.setProperty("color", invalidColor);
    }
    post({ type: "payloops:resize", height: document.documentElement.scrollHeight });
  }

  function publicError(problem) {
    return problem ? { field: problem.field, code: problem.code, message: MESSAGES[problem.code] || GENERIC_MESSAGE } : null;
  }

  function format() {
    const digits = digitsOf(inputs.number.value);
    const brand = brandOf(digits);
    const groups = brand === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    const parts = [];
    let rest = digits.slice(0, maxLength(brand));
    for (const size of groups) {
      if (rest.length === 0) {
        break;
      }
      parts.push(rest.slice(0, size));
      rest = rest.slice(size);
    }
    inputs.number.value = parts.join(" ");
    brandLabel.textContent = brand ? BRAND_NAMES[brand] : "card";
    inputs.cvc.maxLength = cvcLength(brand);
  }

  function formatExpiry(event) {
    const digits = digitsOf(inputs.expiry.value).slice(0, 6);
    const deleting = event && event.inputType && event.inputType.startsWith("delete");
    if (digits.length >= 2 && !(deleting && digits.length === 2)) {
      inputs.expiry.value = digits.slice(0, 2) + " / " + digits.slice(2, 4);
    } else {
      inputs.expiry.value = digits;
    }
  }

  function changed() {
    const found = problems(false);
    show(found);
    const empty = Object.values(inputs).every((input) => input.value === "");
    post({
      type: "payloops:change",
      event: {
        empty: empty,
        complete: problems(true).length === 0,
        brand: brandOf(digitsOf(inputs.number.value)) || "unknown",
        error: publicError(found[0] || null),
      },
    });
  }

  // --- tokenizing -------------------------------------------------------------------------

  function tokenBody(holderName) {
    const { month, year } = expiryOf(inputs.expiry.value);
    return {
      card: {
        number: digitsOf(inputs.number.value),
        exp_month: month,
        exp_year: year,
        cvc: digitsOf(inputs.cvc.value),
        holder_name: holderName,
      },
    };
  }

  // The vault's google.rpc.Status: the first field violation's reason, else ErrorInfo's.
  function vaultError(status) {
    const details = (status && status.details) || [];
    for (const detail of details) {
      const violations = detail.field_violations || detail.fieldViolations || [];
      if (violations.length > 0) {
        const field = String(violations[0].field || "").replace(/^card\./, "");
        const code = violations[0].reason || "INVALID_REQUEST";
        return { type: "validation_error", code: code, field: field === "exp_month" || field === "exp_year" ? "expiry" : field, message: MESSAGES[code] || GENERIC_MESSAGE };
      }
    }
    const info = details.find((detail) => detail.reason);
    return { type: "api_error", code: info ? info.reason : "UNKNOWN", message: GENERIC_MESSAGE };
  }

  async function tokenize(holderName) {
    const found = problems(true);
    if (found.length > 0) {
      Object.keys(touched).forEach((field) => { touched[field] = true; });
      show(found);
      return { error: Object.assign({ type: "validation_error" }, publicError(found[0])) };
    }
    let answer;
    try {
      answer = await fetch("/v1/tokens", {
        method: "POST",
        headers: { "Authorization": "Bearer " + publishableKey, "Content-Type": "application/json" },
        body: JSON.stringify(tokenBody(holderName)),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (_) {
      return { error: { type: "api_error", code: "NETWORK_ERROR", message: GENERIC_MESSAGE } };
    }
    const body = await answer.json().catch(() => null);
    if (!answer.ok || !body || typeof body.id !== "string") {
      const error = vaultError(body);
      if (error.field) {
        show([error]);
      }
      return { error: error };
    }
    // Only what a receipt shows: never the BIN, the fingerprint or anything typed.
    const card = body.card || {};
    return {
      token: {
        id: body.id,
        card: { brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year },
        livemode: Boolean(body.livemode),
      },
    };
  }

  // --- the merchant's page ----------------------------------------------------------------

  function onMessage(event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) {
      return;
    }
    const message = event.data;
    if (!message || typeof message.type !== "string") {
      return;
    }
    if (message.type === "payloops:tokenize" && typeof message.id === "string") {
      const holderName = typeof message.holder_name === "string" ? message.holder_name : "";
      tokenize(holderName).then((result) => post({ type: "payloops:tokenized", id: message.id, result: result }));
    } else if (message.type === "payloops:focus") {
      inputs.number.focus();
    } else if (message.type === "payloops:clear") {
      Object.values(inputs).forEach((input) => { input.value = ""; });
      Object.keys(touched).forEach((field) => { touched[field] = false; });
      format();
      changed();
    }
  }

  function parseStyle() {
    try {
      const parsed = JSON.parse(settings.get("style") || "{}");
      return parsed && typeof parsed === "object" ? parsed : {};
    } catch (_) {
      return {};
    }
  }

  const style = parseStyle();

  function applyStyle() {
    const base = style.base && typeof style.base === "object" ? style.base : {};
    for (const [name, value] of Object.entries(base)) {
      if (Object.prototype.hasOwnProperty.call(STYLE_PROPERTIES, name) && STYLE_VALUE.test(String(value))) {
        document.body.style.setProperty(STYLE_PROPERTIES[name], String(value));
      }
    }
  }

  function start() {
    if (parentOrigin === null) {
      Object.values(inputs).forEach((input) => { input.disabled = true; });
      errorLine.textContent = "This card field can only be used inside its merchant's checkout.";
      return;
    }
    applyStyle();
    inputs.number.addEventListener("input", () => { format(); changed(); });
    inputs.expiry.addEventListener("input", (event) => { formatExpiry(event); changed(); });
    inputs.cvc.addEventListener("input", () => { inputs.cvc.value = digitsOf(inputs.cvc.value); changed(); });
    for (const [field, input] of Object.entries(inputs)) {
      input.addEventListener("focus", () => post({ type: "payloops:focus", event: { field: field } }));
      input.addEventListener("blur", () => {
        touched[field] = input.value !== "";
        changed();
        post({ type: "payloops:blur", event: { field: field } });
      });
    }
    window.addEventListener("message", onMessage);
    post({ type: "payloops:ready" });
    post({ type: "payloops:resize", height: document.documentElement.scrollHeight });
  }

  start();
})();
