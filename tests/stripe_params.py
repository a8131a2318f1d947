"""What Stripe accepts, read from the pinned `stripe` library's typed parameters.

stripe==16.1.0 ships one TypedDict per API method (`PriceCreateParams`,
`checkout.SessionCreateParams`, ...), generated from Stripe's OpenAPI spec.
The fake (tests/stripe_fake.py) checks every request against the class of its
endpoint: an unknown parameter at any depth, a missing required one or a value
outside a closed set of literals is refused with Stripe's 400, as Stripe does.
An endpoint with no class here is refused too, so the fake cannot silently
accept a call nobody checked.
"""

from __future__ import annotations

import functools
import importlib
import re
import types
import typing
from decimal import Decimal
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin

from stripe._request_options import RequestOptions
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import is_typeddict

_ID = r"[\w]+"

# (method, path pattern, "module:Class") — module under stripe.params.
ENDPOINTS: list[tuple[str, str, str]] = [
    ("POST", r"/v1/products", "_product_create_params:ProductCreateParams"),
    ("GET", rf"/v1/products/{_ID}", "_product_retrieve_params:ProductRetrieveParams"),
    ("POST", r"/v1/prices", "_price_create_params:PriceCreateParams"),
    ("GET", r"/v1/prices", "_price_list_params:PriceListParams"),
    ("GET", rf"/v1/prices/{_ID}", "_price_retrieve_params:PriceRetrieveParams"),
    ("POST", rf"/v1/prices/{_ID}", "_price_modify_params:PriceModifyParams"),
    ("POST", r"/v1/plans", "_plan_create_params:PlanCreateParams"),
    ("POST", r"/v1/customers", "_customer_create_params:CustomerCreateParams"),
    ("GET", r"/v1/customers", "_customer_list_params:CustomerListParams"),
    ("GET", rf"/v1/customers/{_ID}", "_customer_retrieve_params:CustomerRetrieveParams"),
    ("POST", rf"/v1/customers/{_ID}", "_customer_modify_params:CustomerModifyParams"),
    ("DELETE", rf"/v1/customers/{_ID}", "_customer_delete_params:CustomerDeleteParams"),
    ("GET", rf"/v1/charges/{_ID}", "_charge_retrieve_params:ChargeRetrieveParams"),
    ("GET", rf"/v1/disputes/{_ID}", "_dispute_retrieve_params:DisputeRetrieveParams"),
    ("GET", rf"/v1/payment_intents/{_ID}", "_payment_intent_retrieve_params:PaymentIntentRetrieveParams"),
    ("GET", r"/v1/invoice_payments", "_invoice_payment_list_params:InvoicePaymentListParams"),
    ("POST", r"/v1/payment_methods", "_payment_method_create_params:PaymentMethodCreateParams"),
    ("GET", rf"/v1/payment_methods/{_ID}", "_payment_method_retrieve_params:PaymentMethodRetrieveParams"),
    ("POST", rf"/v1/payment_methods/{_ID}/attach", "_payment_method_attach_params:PaymentMethodAttachParams"),
    ("POST", r"/v1/checkout/sessions", "checkout._session_create_params:SessionCreateParams"),
    ("GET", r"/v1/checkout/sessions", "checkout._session_list_params:SessionListParams"),
    ("GET", rf"/v1/checkout/sessions/{_ID}", "checkout._session_retrieve_params:SessionRetrieveParams"),
    ("POST", rf"/v1/checkout/sessions/{_ID}/expire", "checkout._session_expire_params:SessionExpireParams"),
    ("POST", r"/v1/billing_portal/sessions", "billing_portal._session_create_params:SessionCreateParams"),
    ("POST", r"/v1/subscriptions", "_subscription_create_params:SubscriptionCreateParams"),
    ("GET", r"/v1/subscriptions", "_subscription_list_params:SubscriptionListParams"),
    ("GET", rf"/v1/subscriptions/{_ID}", "_subscription_retrieve_params:SubscriptionRetrieveParams"),
    ("POST", rf"/v1/subscriptions/{_ID}", "_subscription_modify_params:SubscriptionModifyParams"),
    ("DELETE", rf"/v1/subscriptions/{_ID}", "_subscription_cancel_params:SubscriptionCancelParams"),
    ("POST", rf"/v1/subscriptions/{_ID}/resume", "_subscription_resume_params:SubscriptionResumeParams"),
    ("GET", rf"/v1/invoices/{_ID}", "_invoice_retrieve_params:InvoiceRetrieveParams"),
    ("POST", rf"/v1/invoices/{_ID}/void", "_invoice_void_invoice_params:InvoiceVoidInvoiceParams"),
    ("DELETE", rf"/v1/invoices/{_ID}", "_invoice_delete_params:InvoiceDeleteParams"),
    ("POST", r"/v1/refunds", "_refund_create_params:RefundCreateParams"),
    ("GET", r"/v1/balance_transactions", "_balance_transaction_list_params:BalanceTransactionListParams"),
    # Offers (growth/): coupons and their promotion codes.
    ("POST", r"/v1/coupons", "_coupon_create_params:CouponCreateParams"),
    ("GET", rf"/v1/coupons/{_ID}", "_coupon_retrieve_params:CouponRetrieveParams"),
    ("POST", rf"/v1/coupons/{_ID}", "_coupon_modify_params:CouponModifyParams"),
    ("DELETE", rf"/v1/coupons/{_ID}", "_coupon_delete_params:CouponDeleteParams"),
    ("POST", r"/v1/promotion_codes", "_promotion_code_create_params:PromotionCodeCreateParams"),
    ("GET", r"/v1/promotion_codes", "_promotion_code_list_params:PromotionCodeListParams"),
    ("GET", rf"/v1/promotion_codes/{_ID}", "_promotion_code_retrieve_params:PromotionCodeRetrieveParams"),
    ("POST", rf"/v1/promotion_codes/{_ID}", "_promotion_code_modify_params:PromotionCodeModifyParams"),
    ("POST", r"/v1/test_helpers/test_clocks", "test_helpers._test_clock_create_params:TestClockCreateParams"),
    ("GET", rf"/v1/test_helpers/test_clocks/{_ID}", "test_helpers._test_clock_retrieve_params:TestClockRetrieveParams"),
    ("POST", r"/v1/billing_portal/configurations",
     "billing_portal._configuration_create_params:ConfigurationCreateParams"),
    ("GET", r"/v1/billing_portal/configurations", "billing_portal._configuration_list_params:ConfigurationListParams"),
    ("GET", rf"/v1/billing_portal/configurations/{_ID}",
     "billing_portal._configuration_retrieve_params:ConfigurationRetrieveParams"),
    ("POST", rf"/v1/billing_portal/configurations/{_ID}",
     "billing_portal._configuration_modify_params:ConfigurationModifyParams"),
    ("GET", rf"/v1/balance_transactions/{_ID}",
     "_balance_transaction_retrieve_params:BalanceTransactionRetrieveParams"),
    ("POST", rf"/v1/test_helpers/test_clocks/{_ID}/advance",
     "test_helpers._test_clock_advance_params:TestClockAdvanceParams"),
]

# Sent by the library as headers, never as form fields.
_OPTIONS = set(RequestOptions.__annotations__)


class _Any:
    """An annotation we could not resolve: accept any value (never a name)."""


@functools.cache
def params_class(method: str, path: str) -> type | None:
    for m, pattern, ref in ENDPOINTS:
        if m == method and re.fullmatch(pattern, path):
            module, _, name = ref.partition(":")
            return getattr(importlib.import_module(f"stripe.params.{module}"), name)
    return None


@functools.cache
def _fields(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    """A TypedDict's fields (annotation resolved in its own module) and required names."""
    module = importlib.import_module(cls.__module__)
    namespace = {**vars(typing), **vars(module), "UntypedStripeObject": UntypedStripeObject, "Decimal": Decimal}
    fields: dict[str, Any] = {}
    for name, annotation in cls.__annotations__.items():
        if name in _OPTIONS:
            continue
        fields[name] = _resolve(annotation, namespace)
    required = frozenset(n for n in getattr(cls, "__required_keys__", ()) if n not in _OPTIONS)
    return fields, required


def _resolve(annotation: Any, namespace: dict) -> Any:
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        try:
            return eval(annotation, namespace)
        except Exception:
            return _Any
    origin = get_origin(annotation)
    if origin in (NotRequired, Required):
        return _resolve(get_args(annotation)[0], namespace)
    if origin is Literal:
        return annotation
    if origin is not None and get_args(annotation):
        args = tuple(_resolve(a, namespace) if not isinstance(a, int | bool) else a for a in get_args(annotation))
        if origin in (Union, types.UnionType):
            return Union[args]  # noqa: UP007 - rebuilt at run time
        if origin is list:
            return list[args[0]]
        if origin is dict:
            return dict[args[0], args[1]]
    return annotation


def check(cls: type, params: Any) -> list[str]:
    """Why Stripe would refuse these (form-decoded) params; empty when it would not."""
    return _check(params if params != "" else {}, cls, "")


def _name(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def _check(value: Any, tp: Any, path: str) -> list[str]:
    origin = get_origin(tp)
    if tp is _Any or tp is Any or tp is UntypedStripeObject or get_origin(tp) is UntypedStripeObject:
        return []
    if origin in (Union, types.UnionType):
        arms = get_args(tp)
        # `Literal[...]|str` is the library's room for values newer API versions
        # add; the pinned version accepts only the listed ones, so `str` goes.
        if any(get_origin(a) is Literal for a in arms):
            arms = tuple(a for a in arms if a is not str)
        attempts = [_check(value, arm, path) for arm in arms]
        if any(not a for a in attempts):
            return []
        # Report the arm whose shape matches (object vs scalar), else the first.
        for arm, errors in zip(arms, attempts, strict=True):
            if isinstance(value, dict) == (is_typeddict(arm) or get_origin(arm) is dict):
                return errors
        return attempts[0]
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"Invalid object: {path}"]
        fields, required = _fields(tp)
        errors = [f"Received unknown parameter: {_name(path, k)}" for k in value if k not in fields]
        errors += [f"Missing required param: {_name(path, k)}." for k in sorted(required) if k not in value]
        for k, v in value.items():
            if k in fields:
                errors += _check(v, fields[k], _name(path, k))
        return errors
    if origin is list:
        items = value if isinstance(value, list) else None
        if isinstance(value, dict) and all(k.isdigit() for k in value):
            items = list(value.values())
        if items is None:
            return [f"Invalid array: {path}"]
        (item_type,) = get_args(tp)
        return [e for i, v in enumerate(items) for e in _check(v, item_type, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"Invalid hash: {path}"]
        _, value_type = get_args(tp)
        return [e for k, v in value.items() for e in _check(v, value_type, _name(path, k))]
    if isinstance(value, dict | list):
        return [f"Invalid {getattr(tp, '__name__', tp)}: {path} is not a scalar"]
    if origin is Literal:
        allowed = {str(a).lower() if isinstance(a, bool) else str(a) for a in get_args(tp)}
        return [] if value in allowed else [f"Invalid {path}: must be one of {', '.join(sorted(allowed))}"]
    if tp is bool:
        return [] if value in ("true", "false") else [f"Invalid boolean: {path}"]
    if tp is int:
        return [] if re.fullmatch(r"-?\d+", value) else [f"Invalid integer: {path}"]
    if tp in (float, Decimal):
        return [] if re.fullmatch(r"-?\d+(\.\d+)?", value) else [f"Invalid decimal: {path}"]
    return []
