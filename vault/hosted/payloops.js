/*
 * payloops.js: PayLoops hosted card fields for merchants' pages.
 *
 *   const payloops = PayLoops("pk_test_…");
 *   const card = payloops.elements().create("card", { style: { base: { fontSize: "16px" } } });
 *   card.mount("#card-element");
 *   card.on("change", (event) => { ... event.complete, event.brand, event.error ... });
 *   const { token, error } = await card.tokenize();   // token.id is "pm_vault_…"
 *
 * The card number, expiry and CVC are typed into an iframe served from PayLoops' own origin
 * (the origin this script came from). This script never sees them: it only sends the iframe
 * "tokenize" and receives the token and what a receipt shows (brand, last four, expiry).
 * Messages go to that origin only, and only messages from that origin and that iframe are
 * read.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || !script.src) {
    throw new Error("payloops.js must be loaded with a <script src> tag");
  }
  const FIELD_URL = new URL("card-field.html", script.src);
  const FIELD_ORIGIN = FIELD_URL.origin;
  const KEY_PATTERN = /^pk_(test|live)_[A-Za-z0-9_]+$/;
  const EVENTS = ["ready", "change", "focus", "blur"];
  const TOKENIZE_TIMEOUT_MS = 30000;

  function uniqueId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  class CardElement {
    constructor(publishableKey, options) {
      this._key = publishableKey;
      this._style = (options && options.style) || {};
      this._frame = null;
      this._handlers = new Map(EVENTS.map((name) => [name, []]));
      this._pending = new Map();
      this._ready = false;
      this._queued = [];
      this._onMessage = this._onMessage.bind(this);
    }

    /** Inserts the card field into `target` (an element or a CSS selector). */
    mount(target) {
      const host = typeof target === "string" ? document.querySelector(target) : target;
      if (!host) {
        throw new Error("PayLoops: nothing to mount the card field into: " + target);
      }
      if (this._frame) {
        throw new Error("PayLoops: this card field is already mounted");
      }
      // The fragment is never sent to a server: the field reads who embeds it, the key and
      // the style from it.
      const settings = new URLSearchParams({
        origin: window.location.origin,
        key: this._key,
        style: JSON.stringify(this._style),
      });
      const frame = document.createElement("iframe");
      frame.src = FIELD_URL.href + "#" + settings.toString();
      frame.title = "Secure card payment input";
      frame.setAttribute("allow", "");
      frame.setAttribute("scrolling", "no");
      frame.style.border = "none";
      frame.style.width = "100%";
      frame.style.height = "3.2em";
      frame.style.display = "block";
      window.addEventListener("message", this._onMessage);
      host.appendChild(frame);
      this._frame = frame;
      return this;
    }

    /** Calls `handler(event)` on "ready", "change", "focus" or "blur". */
    on(name, handler) {
      if (!this._handlers.has(name)) {
        throw new Error("PayLoops: unknown event " + name);
      }
      this._handlers.get(name).push(handler);
      return this;
    }

    /**
     * Tokenizes the card the customer typed: resolves to {token: {id, card: {brand, last4,
     * exp_month, exp_year}, livemode}} or to {error: {type, code, message, field?}}.
     * Invalid input is refused by the field itself (type "validation_error"), with no
     * network call.
     */
    tokenize(details) {
      const holderName = (details && details.name) || "";
      return new Promise((resolve) => {
        if (!this._frame) {
          resolve({ error: { type: "integration_error", code: "NOT_MOUNTED", message: "Mount the card field first." } });
          return;
        }
        const id = uniqueId();
        const timer = window.setTimeout(() => {
          this._pending.delete(id);
          resolve({ error: { type: "api_error", code: "TIMEOUT", message: "The card could not be tokenized in time." } });
        }, TOKENIZE_TIMEOUT_MS);
        this._pending.set(id, (result) => {
          window.clearTimeout(timer);
          resolve(result);
        });
        this._send({ type: "payloops:tokenize", id: id, holder_name: String(holderName) });
      });
    }

    focus() {
      this._send({ type: "payloops:focus" });
    }

    clear() {
      this._send({ type: "payloops:clear" });
    }

    /** Removes the field and forgets everything it said. */
    destroy() {
      window.removeEventListener("message", this._onMessage);
      if (this._frame) {
        this._frame.remove();
      }
      this._frame = null;
      this._ready = false;
      this._pending.clear();
    }

    _send(message) {
      if (!this._ready) {
        this._queued.push(message);
        return;
      }
      // Addressed to PayLoops' origin: if the iframe was navigated elsewhere, it gets nothing.
      this._frame.contentWindow.postMessage(message, FIELD_ORIGIN);
    }

    _onMessage(event) {
      if (event.origin !== FIELD_ORIGIN || !this._frame || event.source !== this._frame.contentWindow) {
        return;
      }
      const message = event.data;
      if (!message || typeof message.type !== "string") {
        return;
      }
      switch (message.type) {
        case "payloops:ready":
          this._ready = true;
          this._queued.splice(0).forEach((queued) => this._send(queued));
          this._emit("ready", {});
          break;
        case "payloops:resize":
          if (typeof message.height === "number" && message.height > 0 && message.height < 1000) {
            this._frame.style.height = Math.ceil(message.height) + "px";
          }
          break;
        case "payloops:change":
        case "payloops:focus":
        case "payloops:blur":
          this._emit(message.type.slice("payloops:".length), message.event || {});
          break;
        case "payloops:tokenized": {
          const settle = this._pending.get(message.id);
          if (settle) {
            this._pending.delete(message.id);
            settle(message.result);
          }
          break;
        }
        default:
          break;
      }
    }

    _emit(name, event) {
      this._handlers.get(name).forEach((handler) => handler(event));
    }
  }

  class Elements {
    constructor(publishableKey) {
      this._key = publishableKey;
    }

    /** The one element type: "card" (number, expiry and CVC in one field). */
    create(type, options) {
      if (type !== "card") {
        throw new Error("PayLoops: unknown element type " + type + " (only \"card\")");
      }
      return new CardElement(this._key, options);
    }
  }

  function PayLoops(publishableKey) {
    if (!KEY_PATTERN.test(String(publishableKey))) {
      throw new Error("PayLoops needs a publishable key (pk_test_… or pk_live_…), never a secret one");
    }
    return {
      elements: () => new Elements(publishableKey),
    };
  }

  window.PayLoops = PayLoops;
})();
