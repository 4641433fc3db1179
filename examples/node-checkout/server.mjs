// A shop's first PayLoops integration in Node: a checkout page and a webhook receiver, on
// node:http alone.
//
//     set -a; . .payloops/dev.env; set +a
//     PAYLOOPS_WEBHOOK_SECRET=whsec_… node server.mjs --port 4242
//
// `POST /checkout` creates an order with the secret key and pays it with the sandbox test card
// the customer picked; when the card asks for 3-D Secure, the customer goes to the bank's page,
// which sends them back to the order's return URL, `/orders/{ref}`, where the result shows.
// Only a verified webhook (`POST /webhooks/payloops`, `order.succeeded`) marks the shop's order
// paid: the customer's return proves nothing, since anyone can open a URL.
//
// Keys come from the environment, never from the command line: PAYLOOPS_API_URL and
// PAYLOOPS_API_KEY (as `payloops dev` writes them to dev.env) and PAYLOOPS_WEBHOOK_SECRET (the
// `whsec_…` of the webhook endpoint pointing here, shown once when it is created).

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import PayLoops from '@payloops/sdk';

const AMOUNT = 2500;
const CURRENCY = 'USD';
const ITEM = 'Two mugs';
// The sandbox's test cards this page offers; a real shop gets a token from PayLoops' hosted card
// fields instead (see examples/checkout).
const TEST_CARDS = new Map([
  ['pm_card_visa', 'Visa, succeeds'],
  ['pm_card_3ds_required', 'Visa, asks for 3-D Secure'],
  ['pm_card_declined', 'Visa, declined'],
]);
const MAX_BODY = 64 * 1024;
// An order that ends in one of these is never paid; until then, or until its webhook marks it
// paid, the order page reloads itself.
const UNPAID_ENDS = new Set(['failed', 'canceled']);

class Shop {
  constructor(payloops, webhookSecret, publicUrl) {
    this.payloops = payloops;
    this.webhookSecret = webhookSecret;
    // Where customers reach this shop: 3-D Secure sends them back here.
    this.publicUrl = publicUrl;
    // The shop's own records of purchases, by its reference and by PayLoops' order id; `paid`
    // is set by a verified webhook only.
    this.orders = new Map();
    this.byPayLoopsId = new Map();
    // Deliveries are at least once: an event already handled is acknowledged and skipped.
    this.handledEvents = new Set();
  }

  // Creates and pays an order for the cart; the shop's order and PayLoops' answer.
  async checkout(card) {
    const shopOrder = { ref: randomBytes(8).toString('hex'), payloopsOrder: '', paid: false, failure: '' };
    this.orders.set(shopOrder.ref, shopOrder);
    // Keys of the shop's own: a retry after a lost answer (even from another process) finds the
    // first order and payment instead of making a second.
    const order = await this.payloops.orders.create(
      {
        amount: AMOUNT,
        currency: CURRENCY,
        description: ITEM,
        metadata: { shop_order: shopOrder.ref },
        returnUrl: `${this.publicUrl}/orders/${shopOrder.ref}`,
      },
      { idempotencyKey: `${shopOrder.ref}-create` },
    );
    shopOrder.payloopsOrder = order.id;
    this.byPayLoopsId.set(order.id, shopOrder);
    const payment = await this.payloops.orders.pay(
      order.id,
      { paymentMethod: { type: 'card', token: card } },
      { idempotencyKey: `${shopOrder.ref}-pay` },
    );
    return { shopOrder, payment };
  }

  // Acts on one webhook delivery; throws when it is not PayLoops' (forged, altered, for another
  // endpoint or replayed).
  async receive(rawBody, signature) {
    const event = await this.payloops.webhooks.constructEvent(rawBody, signature, this.webhookSecret);
    if (this.handledEvents.has(event.id)) return;
    this.handledEvents.add(event.id);
    const shopOrder = this.byPayLoopsId.get(event.object?.id);
    if (shopOrder === undefined) return; // another integration's order, or from before this process started
    if (event.type === 'order.succeeded') {
      shopOrder.paid = true; // ship the mugs here
    } else if (event.type === 'order.failed') {
      shopOrder.failure = event.object.failureCode || 'failed';
    }
  }
}

const escape = (text) =>
  String(text).replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body, refresh = false) {
  const reload = refresh ? "<meta http-equiv='refresh' content='1'>" : '';
  return (
    `<!doctype html><html lang='en'><head><meta charset='utf-8'>${reload}` +
    `<title>${escape(title)} · Example shop</title></head>` +
    `<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`
  );
}

function checkoutPage() {
  const cards = [...TEST_CARDS]
    .map(
      ([token, label], index) =>
        `<label><input type='radio' name='card' value='${token}'${index === 0 ? ' checked' : ''}> ` +
        `${escape(label)} <code>${token}</code></label><br>`,
    )
    .join('');
  return page(
    'Checkout',
    `<p>${ITEM}: <strong>${(AMOUNT / 100).toFixed(2)} ${CURRENCY}</strong></p>` +
      `<form method='post' action='/checkout'>${cards}` +
      "<p><button type='submit' id='pay'>Pay</button></p></form>",
  );
}

// The result as the customer sees it; reloads until the payment and its webhook settle.
function orderPage(shopOrder, order) {
  let status = order.status;
  let text = 'Confirming your payment…';
  if (shopOrder.paid) {
    [status, text] = ['paid', 'Thank you: your payment is confirmed.'];
  } else if (UNPAID_ENDS.has(order.status)) {
    text = `Payment ${order.status}: ${order.failureCode || 'no charge'}.`;
  }
  const settled = shopOrder.paid || UNPAID_ENDS.has(order.status);
  return page(
    'Your order',
    `<p id='result' role='status' data-status='${escape(status)}'>${escape(text)}</p>` +
      `<p>Order <code>${escape(shopOrder.ref)}</code></p><p><a href='/'>Back</a></p>`,
    !settled,
  );
}

function orderSummary(shopOrder, order) {
  return {
    ref: shopOrder.ref,
    payloops_order: order.id,
    status: order.status,
    paid: shopOrder.paid,
    failure: shopOrder.failure,
  };
}

function send(response, status, contentType, body) {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(body);
}

function redirect(response, location) {
  response.writeHead(303, { Location: location, 'Content-Length': 0 });
  response.end();
}

// The reason and correlation id are what PayLoops' support asks for; never the key.
function failed(response, error) {
  send(response, 502, 'text/html; charset=utf-8', page('Payment error', `<p>${escape(error.message)}</p>`));
}

// The raw bytes of the request body: the signature is over them, not over a re-serialized JSON.
async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// `/orders/{ref}` for the customer, `/orders/{ref}.json` for scripts.
const ORDER_PATH = /^\/orders\/([0-9a-f]+)(\.json)?$/;

async function showOrder(shop, response, path) {
  const [, ref, json] = ORDER_PATH.exec(path) ?? [];
  const shopOrder = ref === undefined ? undefined : shop.orders.get(ref);
  if (shopOrder === undefined) {
    send(response, 404, 'text/plain', 'not found\n');
    return;
  }
  const order = await shop.payloops.orders.retrieve(shopOrder.payloopsOrder);
  if (json) {
    send(response, 200, 'application/json', JSON.stringify(orderSummary(shopOrder, order)));
  } else {
    send(response, 200, 'text/html; charset=utf-8', orderPage(shopOrder, order));
  }
}

async function checkout(shop, response, form) {
  const card = new URLSearchParams(form.toString('utf8')).get('card') ?? '';
  if (!TEST_CARDS.has(card)) {
    send(response, 400, 'text/plain', 'pick a test card\n');
    return;
  }
  const { shopOrder, payment } = await shop.checkout(card);
  if (payment.status === 'requires_action' && payment.redirectUrl) {
    redirect(response, payment.redirectUrl); // the bank's 3-D Secure page
  } else {
    redirect(response, `/orders/${shopOrder.ref}`);
  }
}

async function webhook(shop, request, response, rawBody) {
  try {
    await shop.receive(rawBody.toString('utf8'), request.headers['payloops-signature'] ?? '');
  } catch {
    send(response, 400, 'text/plain', 'bad signature\n');
    return;
  }
  send(response, 200, 'text/plain', 'ok\n');
}

async function route(shop, request, response) {
  const path = new URL(request.url, shop.publicUrl).pathname;
  if (request.method === 'GET' && path === '/') {
    send(response, 200, 'text/html; charset=utf-8', checkoutPage());
  } else if (request.method === 'GET' && ORDER_PATH.test(path)) {
    await showOrder(shop, response, path);
  } else if (request.method === 'POST' && ['/checkout', '/webhooks/payloops'].includes(path)) {
    const body = await readBody(request);
    if (body === null) {
      send(response, 413, 'text/plain', 'too large\n');
    } else if (path === '/checkout') {
      await checkout(shop, response, body);
    } else {
      await webhook(shop, request, response, body);
    }
  } else {
    send(response, 404, 'text/plain', 'not found\n');
  }
}

function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '4242' } } });
  const port = Number(values.port);
  const needed = ['PAYLOOPS_API_URL', 'PAYLOOPS_API_KEY', 'PAYLOOPS_WEBHOOK_SECRET'];
  const missing = needed.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    process.stderr.write(`error: set ${missing.join(', ')} (see the README beside this file)\n`);
    process.exit(2);
  }
  const payloops = new PayLoops(process.env.PAYLOOPS_API_KEY, { baseUrl: process.env.PAYLOOPS_API_URL });
  const shop = new Shop(payloops, process.env.PAYLOOPS_WEBHOOK_SECRET, `http://127.0.0.1:${port}`);
  const server = http.createServer((request, response) => {
    route(shop, request, response).catch((error) => failed(response, error));
  });
  server.listen(port, '127.0.0.1', () => {
    process.stderr.write(`example shop on ${shop.publicUrl}/\n`);
  });
}

main();
