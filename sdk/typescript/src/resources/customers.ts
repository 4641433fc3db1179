import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { Customer, PaymentMethod, QueryParams, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type CustomerCreateParams = RequestBody<"CreateCustomer">;
export type CustomerUpdateParams = Partial<RequestBody<"UpdateCustomer">>;
export type CustomerListParams = QueryParams<"ListCustomers">;
export type CustomerList = ResponseOf<"ListCustomers"> & { customers: Customer[] };
export type PaymentMethodAttachParams = RequestBody<"AttachPaymentMethod">;
export type PaymentMethodList = ResponseOf<"ListCustomerPaymentMethods">;

/** A customer's saved payment methods. */
export class CustomerPaymentMethods extends Resource {
  /** Saves a payment method (a token from `tokens.create`) for the customer. */
  async attach(
    customerId: string,
    params: PaymentMethodAttachParams,
    options?: RequestOptions,
  ): Promise<PaymentMethod> {
    return (await this.api.call(
      "AttachPaymentMethod",
      { path: { customer: customerId }, body: params },
      options,
    )) as PaymentMethod;
  }

  async list(customerId: string, options?: RequestOptions): Promise<PaymentMethodList> {
    return (await this.api.call(
      "ListCustomerPaymentMethods",
      { path: { customer: customerId } },
      options,
    )) as PaymentMethodList;
  }

  async detach(
    customerId: string,
    paymentMethodId: string,
    options?: RequestOptions,
  ): Promise<void> {
    await this.api.call(
      "DetachPaymentMethod",
      { path: { customer: customerId, payment_method: paymentMethodId }, body: {} },
      options,
    );
  }
}

export class Customers extends Resource {
  readonly paymentMethods = new CustomerPaymentMethods(this.api);

  async create(params: CustomerCreateParams = {}, options?: RequestOptions): Promise<Customer> {
    return (await this.api.call("CreateCustomer", { body: params }, options)) as Customer;
  }

  async retrieve(id: string, options?: RequestOptions): Promise<Customer> {
    return (await this.api.call("GetCustomer", { path: { customer: id } }, options)) as Customer;
  }

  list(
    params: CustomerListParams = {},
    options?: RequestOptions,
  ): PagePromise<CustomerList, "customers", Customer> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListCustomers",
          { query: { ...params, pageToken } },
          options,
        )) as CustomerList,
      "customers",
      params.pageToken,
    );
  }

  /** Changes the fields given. */
  async update(
    id: string,
    params: CustomerUpdateParams,
    options?: RequestOptions,
  ): Promise<Customer> {
    return (await this.api.call(
      "UpdateCustomer",
      { path: { "customer.id": id }, body: params },
      options,
    )) as Customer;
  }

  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.api.call("DeleteCustomer", { path: { customer: id } }, options);
  }
}
