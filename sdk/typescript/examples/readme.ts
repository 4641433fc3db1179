import PayLoops from '@payloops/sdk';
const payloops = new PayLoops('sk_live_...');
const order = await payloops.orders.create({ amount: 4999, currency: 'USD', metadata: { orderId: 'ORD-123' } });
const payment = await payloops.orders.pay(order.id, { paymentMethod: { type: 'card', token: 'pm_...' } });
if (payment.status === 'requires_action') { /* redirect to payment.redirectUrl for 3DS */ }
