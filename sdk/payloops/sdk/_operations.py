"""Every operation of the API: the RPC, its REST binding and what it returns. GENERATED
from gen/openapi.json by `python -m cli.sdk_codegen` (`make gen`): do not edit."""

from __future__ import annotations

from payloops.sdk import models
from payloops.sdk._operation import Operation

ATTACH_PAYMENT_METHOD: Operation[models.CustomerPaymentMethod] = Operation(
    "AttachPaymentMethod",
    "POST",
    "/v1/customers/{customer}/payment_methods",
    "payloops.v1.CustomerService",
    models.CustomerPaymentMethod,
)
CANCEL_ORDER: Operation[models.Order] = Operation(
    "CancelOrder", "POST", "/v1/orders/{order}:cancel", "payloops.v1.OrderService", models.Order
)
CAPTURE_ORDER: Operation[models.Order] = Operation(
    "CaptureOrder", "POST", "/v1/orders/{order}:capture", "payloops.v1.OrderService", models.Order
)
CREATE_API_KEY: Operation[models.ApiKey] = Operation(
    "CreateApiKey", "POST", "/v1/api_keys", "payloops.v1.ApiKeyService", models.ApiKey
)
CREATE_CUSTOMER: Operation[models.Customer] = Operation(
    "CreateCustomer", "POST", "/v1/customers", "payloops.v1.CustomerService", models.Customer
)
CREATE_MERCHANT: Operation[models.Merchant] = Operation(
    "CreateMerchant", "POST", "/v1/merchants", "payloops.v1.MerchantService", models.Merchant
)
CREATE_ORDER: Operation[models.Order] = Operation(
    "CreateOrder", "POST", "/v1/orders", "payloops.v1.OrderService", models.Order
)
CREATE_PROCESSOR: Operation[models.Processor] = Operation(
    "CreateProcessor", "POST", "/v1/processors", "payloops.v1.ProcessorService", models.Processor
)
CREATE_PROCESSOR_ACCOUNT: Operation[models.ProcessorAccount] = Operation(
    "CreateProcessorAccount",
    "POST",
    "/v1/processor_accounts",
    "payloops.v1.ProcessorAccountService",
    models.ProcessorAccount,
)
CREATE_REFUND: Operation[models.Refund] = Operation(
    "CreateRefund", "POST", "/v1/orders/{order}/refunds", "payloops.v1.RefundService", models.Refund
)
CREATE_SESSION: Operation[models.Session] = Operation(
    "CreateSession", "POST", "/v1/sessions", "payloops.v1.SessionService", models.Session
)
CREATE_TOKEN: Operation[models.VaultedPaymentMethod] = Operation(
    "CreateToken", "POST", "/v1/tokens", "payloops.v1.TokenService", models.VaultedPaymentMethod
)
CREATE_USER: Operation[models.User] = Operation(
    "CreateUser", "POST", "/v1/users", "payloops.v1.UserService", models.User
)
CREATE_WEBHOOK_ENDPOINT: Operation[models.WebhookEndpoint] = Operation(
    "CreateWebhookEndpoint",
    "POST",
    "/v1/webhook_endpoints",
    "payloops.v1.WebhookEndpointService",
    models.WebhookEndpoint,
)
DELETE_CUSTOMER: Operation[None] = Operation(
    "DeleteCustomer", "DELETE", "/v1/customers/{customer}", "payloops.v1.CustomerService", None
)
DELETE_WEBHOOK_ENDPOINT: Operation[None] = Operation(
    "DeleteWebhookEndpoint",
    "DELETE",
    "/v1/webhook_endpoints/{webhook_endpoint}",
    "payloops.v1.WebhookEndpointService",
    None,
)
DETACH_PAYMENT_METHOD: Operation[None] = Operation(
    "DetachPaymentMethod",
    "POST",
    "/v1/customers/{customer}/payment_methods/{payment_method}:detach",
    "payloops.v1.CustomerService",
    None,
)
DISABLE_PROCESSOR_ACCOUNT: Operation[models.ProcessorAccount] = Operation(
    "DisableProcessorAccount",
    "POST",
    "/v1/processor_accounts/{processor_account}:disable",
    "payloops.v1.ProcessorAccountService",
    models.ProcessorAccount,
)
GET_CUSTOMER: Operation[models.Customer] = Operation(
    "GetCustomer", "GET", "/v1/customers/{customer}", "payloops.v1.CustomerService", models.Customer
)
GET_EVENT: Operation[models.Event] = Operation(
    "GetEvent", "GET", "/v1/events/{event}", "payloops.v1.EventService", models.Event
)
GET_HEALTH: Operation[models.Health] = Operation(
    "GetHealth", "GET", "/health", "payloops.v1.HealthService", models.Health
)
GET_JWKS: Operation[models.JsonWebKeySet] = Operation(
    "GetJwks", "GET", "/.well-known/jwks.json", "payloops.v1.SessionService", models.JsonWebKeySet
)
GET_ORDER: Operation[models.Order] = Operation(
    "GetOrder", "GET", "/v1/orders/{order}", "payloops.v1.OrderService", models.Order
)
GET_PAYMENT_ANALYTICS: Operation[models.GetPaymentAnalyticsResponse] = Operation(
    "GetPaymentAnalytics",
    "GET",
    "/v1/analytics/payments",
    "payloops.v1.AnalyticsService",
    models.GetPaymentAnalyticsResponse,
)
GET_REFUND: Operation[models.Refund] = Operation(
    "GetRefund", "GET", "/v1/refunds/{refund}", "payloops.v1.RefundService", models.Refund
)
GET_ROUTING_CONFIG: Operation[models.RoutingConfig] = Operation(
    "GetRoutingConfig", "GET", "/v1/routing", "payloops.v1.RoutingService", models.RoutingConfig
)
GET_ROUTING_CONFIG_VERSION: Operation[models.RoutingConfig] = Operation(
    "GetRoutingConfigVersion",
    "GET",
    "/v1/routing/versions/{version}",
    "payloops.v1.RoutingService",
    models.RoutingConfig,
)
LIST_API_KEYS: Operation[models.ListApiKeysResponse] = Operation(
    "ListApiKeys", "GET", "/v1/api_keys", "payloops.v1.ApiKeyService", models.ListApiKeysResponse
)
LIST_AUDIT_ENTRIES: Operation[models.ListAuditEntriesResponse] = Operation(
    "ListAuditEntries",
    "GET",
    "/v1/audit_log",
    "payloops.v1.AuditLogService",
    models.ListAuditEntriesResponse,
)
LIST_CUSTOMER_PAYMENT_METHODS: Operation[models.ListCustomerPaymentMethodsResponse] = Operation(
    "ListCustomerPaymentMethods",
    "GET",
    "/v1/customers/{customer}/payment_methods",
    "payloops.v1.CustomerService",
    models.ListCustomerPaymentMethodsResponse,
)
LIST_CUSTOMERS: Operation[models.ListCustomersResponse] = Operation(
    "ListCustomers",
    "GET",
    "/v1/customers",
    "payloops.v1.CustomerService",
    models.ListCustomersResponse,
)
LIST_EVENT_DELIVERIES: Operation[models.ListEventDeliveriesResponse] = Operation(
    "ListEventDeliveries",
    "GET",
    "/v1/events/{event}/deliveries",
    "payloops.v1.EventService",
    models.ListEventDeliveriesResponse,
)
LIST_EVENTS: Operation[models.ListEventsResponse] = Operation(
    "ListEvents", "GET", "/v1/events", "payloops.v1.EventService", models.ListEventsResponse
)
LIST_ORDERS: Operation[models.ListOrdersResponse] = Operation(
    "ListOrders", "GET", "/v1/orders", "payloops.v1.OrderService", models.ListOrdersResponse
)
LIST_PROCESSOR_ACCOUNTS: Operation[models.ListProcessorAccountsResponse] = Operation(
    "ListProcessorAccounts",
    "GET",
    "/v1/processor_accounts",
    "payloops.v1.ProcessorAccountService",
    models.ListProcessorAccountsResponse,
)
LIST_PROCESSORS: Operation[models.ListProcessorsResponse] = Operation(
    "ListProcessors",
    "GET",
    "/v1/processors",
    "payloops.v1.ProcessorService",
    models.ListProcessorsResponse,
)
LIST_REFUNDS: Operation[models.ListRefundsResponse] = Operation(
    "ListRefunds",
    "GET",
    "/v1/orders/{order}/refunds",
    "payloops.v1.RefundService",
    models.ListRefundsResponse,
)
LIST_ROUTING_CONFIG_VERSIONS: Operation[models.ListRoutingConfigVersionsResponse] = Operation(
    "ListRoutingConfigVersions",
    "GET",
    "/v1/routing/versions",
    "payloops.v1.RoutingService",
    models.ListRoutingConfigVersionsResponse,
)
LIST_USERS: Operation[models.ListUsersResponse] = Operation(
    "ListUsers", "GET", "/v1/users", "payloops.v1.UserService", models.ListUsersResponse
)
LIST_WEBHOOK_ENDPOINT_DELIVERIES: Operation[models.ListWebhookEndpointDeliveriesResponse] = (
    Operation(
        "ListWebhookEndpointDeliveries",
        "GET",
        "/v1/webhook_endpoints/{webhook_endpoint}/deliveries",
        "payloops.v1.WebhookEndpointService",
        models.ListWebhookEndpointDeliveriesResponse,
    )
)
LIST_WEBHOOK_ENDPOINTS: Operation[models.ListWebhookEndpointsResponse] = Operation(
    "ListWebhookEndpoints",
    "GET",
    "/v1/webhook_endpoints",
    "payloops.v1.WebhookEndpointService",
    models.ListWebhookEndpointsResponse,
)
LOGOUT_SESSION: Operation[models.LogoutSessionResponse] = Operation(
    "LogoutSession",
    "POST",
    "/v1/sessions:logout",
    "payloops.v1.SessionService",
    models.LogoutSessionResponse,
)
PAY_ORDER: Operation[models.Order] = Operation(
    "PayOrder", "POST", "/v1/orders/{order}:pay", "payloops.v1.OrderService", models.Order
)
RECEIVE_PROCESSOR_WEBHOOK: Operation[None] = Operation(
    "ReceiveProcessorWebhook",
    "POST",
    "/v1/processor_webhooks/{processor}",
    "payloops.v1.ProcessorWebhookService",
    None,
)
RECEIVE_PROCESSOR_WEBHOOK_FOR_ACCOUNT: Operation[None] = Operation(
    "ReceiveProcessorWebhookForAccount",
    "POST",
    "/v1/processor_webhooks/{processor}/accounts/{processor_account}",
    "payloops.v1.ProcessorWebhookService",
    None,
)
REDELIVER_EVENT: Operation[models.ListEventDeliveriesResponse] = Operation(
    "RedeliverEvent",
    "POST",
    "/v1/events/{event}:redeliver",
    "payloops.v1.EventService",
    models.ListEventDeliveriesResponse,
)
REFRESH_SESSION: Operation[models.Session] = Operation(
    "RefreshSession", "POST", "/v1/sessions:refresh", "payloops.v1.SessionService", models.Session
)
REMOVE_USER: Operation[models.User] = Operation(
    "RemoveUser", "POST", "/v1/users/{user}:remove", "payloops.v1.UserService", models.User
)
REVOKE_API_KEY: Operation[models.ApiKey] = Operation(
    "RevokeApiKey",
    "POST",
    "/v1/api_keys/{api_key}:revoke",
    "payloops.v1.ApiKeyService",
    models.ApiKey,
)
ROLL_API_KEY: Operation[models.ApiKey] = Operation(
    "RollApiKey", "POST", "/v1/api_keys/{api_key}:roll", "payloops.v1.ApiKeyService", models.ApiKey
)
ROLLBACK_ROUTING_CONFIG: Operation[models.RoutingConfig] = Operation(
    "RollbackRoutingConfig",
    "POST",
    "/v1/routing/versions/{version}:rollback",
    "payloops.v1.RoutingService",
    models.RoutingConfig,
)
ROTATE_PROCESSOR_ACCOUNT_CREDENTIALS: Operation[models.ProcessorAccount] = Operation(
    "RotateProcessorAccountCredentials",
    "POST",
    "/v1/processor_accounts/{processor_account}:rotate",
    "payloops.v1.ProcessorAccountService",
    models.ProcessorAccount,
)
ROTATE_WEBHOOK_ENDPOINT_SECRET: Operation[models.WebhookEndpoint] = Operation(
    "RotateWebhookEndpointSecret",
    "POST",
    "/v1/webhook_endpoints/{webhook_endpoint}:rotate_secret",
    "payloops.v1.WebhookEndpointService",
    models.WebhookEndpoint,
)
SEND_TEST_EVENT: Operation[models.EventDelivery] = Operation(
    "SendTestEvent",
    "POST",
    "/v1/webhook_endpoints/{webhook_endpoint}:send_test_event",
    "payloops.v1.WebhookEndpointService",
    models.EventDelivery,
)
SET_USER_ROLE: Operation[models.User] = Operation(
    "SetUserRole", "POST", "/v1/users/{user}:set_role", "payloops.v1.UserService", models.User
)
SIMULATE_ROUTING: Operation[models.SimulateRoutingResponse] = Operation(
    "SimulateRouting",
    "POST",
    "/v1/routing:simulate",
    "payloops.v1.RoutingService",
    models.SimulateRoutingResponse,
)
UPDATE_CUSTOMER: Operation[models.Customer] = Operation(
    "UpdateCustomer",
    "PATCH",
    "/v1/customers/{customer.id}",
    "payloops.v1.CustomerService",
    models.Customer,
)
UPDATE_ROUTING_CONFIG: Operation[models.RoutingConfig] = Operation(
    "UpdateRoutingConfig", "PUT", "/v1/routing", "payloops.v1.RoutingService", models.RoutingConfig
)
UPDATE_WEBHOOK_ENDPOINT: Operation[models.WebhookEndpoint] = Operation(
    "UpdateWebhookEndpoint",
    "PATCH",
    "/v1/webhook_endpoints/{webhook_endpoint.id}",
    "payloops.v1.WebhookEndpointService",
    models.WebhookEndpoint,
)
WHAT_IF_ROUTING: Operation[models.WhatIfRoutingResponse] = Operation(
    "WhatIfRouting",
    "POST",
    "/v1/routing:what_if",
    "payloops.v1.RoutingService",
    models.WhatIfRoutingResponse,
)
