// The example shop's checkout: the card field is PayLoops' iframe; this page only ever holds
// the token, which its server pays the order with (POST /pay).
"use strict";

const checkout = document.getElementById("checkout");
const payButton = document.getElementById("pay");
const nameInput = document.getElementById("name");
const result = document.getElementById("result");

const payloops = PayLoops(checkout.dataset.publishableKey);
const card = payloops.elements().create("card", {
  style: { base: { fontSize: "16px", color: "#32325d" }, invalid: { color: "#c0392b" } },
});
card.mount("#card-element");

function show(status, text) {
  result.dataset.status = status;
  result.textContent = text;
}

card.on("change", (event) => {
  if (result.dataset.status === "error" || result.dataset.status === "") {
    show(event.error ? "error" : "", event.error ? event.error.message : "");
  }
});

async function pay() {
  payButton.disabled = true;
  show("", "");
  const { token, error } = await card.tokenize({ name: nameInput.value });
  if (error) {
    show("error", error.message);
    payButton.disabled = false;
    return;
  }
  const answer = await fetch("/pay", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token.id }),
  });
  const order = await answer.json();
  if (order.redirect_url) {
    // 3-D Secure: the bank's page, which sends the customer back to /return.
    window.location.assign(order.redirect_url);
    return;
  }
  if (order.status === "SUCCEEDED") {
    show("SUCCEEDED", "Payment succeeded: " + token.card.brand + " ending in " + token.card.last4 + ".");
  } else {
    show("FAILED", "Payment failed: " + (order.failure_code || order.error || "unknown") + ".");
    payButton.disabled = false;
  }
}

payButton.addEventListener("click", pay);
