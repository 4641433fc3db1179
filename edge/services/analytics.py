"""AnalyticsService: aggregates over the caller's own payments (its merchant, its mode), for
the dashboard's Overview and Processors pages. The figures are edge.analytics'; this checks
that a request is bounded before PostgreSQL sees it, and shapes the answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import errors
from edge import analytics
from edge.auth import authenticate
from edge.context import ServicerContext
from payloops.v1 import analytics_pb2, analytics_pb2_grpc

# A dashboard's widest window (a quarter), and the most time buckets a chart can show: an
# hourly view is thus at most about 41 days.
MAX_WINDOW = timedelta(days=90)
MAX_TIME_BUCKETS = 1000

_Request = analytics_pb2.GetPaymentAnalyticsRequest
_INTERVALS = {_Request.HOUR: analytics.Interval.HOUR, _Request.DAY: analytics.Interval.DAY}
_GROUPS = {
    _Request.PROCESSOR: analytics.GroupBy.PROCESSOR,
    _Request.CURRENCY: analytics.GroupBy.CURRENCY,
    _Request.STATUS: analytics.GroupBy.STATUS,
    _Request.FAILURE_CODE: analytics.GroupBy.FAILURE_CODE,
}


class AnalyticsService(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def GetPaymentAnalytics(
        self, request: analytics_pb2.GetPaymentAnalyticsRequest, context: ServicerContext
    ) -> analytics_pb2.GetPaymentAnalyticsResponse:
        async with self._sessions() as session:
            caller = await authenticate(session, context)
            query = query_of(request)
            buckets = await analytics.payment_analytics(session, caller, query)
        return analytics_pb2.GetPaymentAnalyticsResponse(
            buckets=[bucket_message(bucket) for bucket in buckets]
        )


def query_of(request: analytics_pb2.GetPaymentAnalyticsRequest) -> analytics.Query:
    """The request as a bounded query, or INVALID_REQUEST with every field that is wrong."""
    found: list[errors.FieldViolation] = []
    if not request.HasField("start_time"):
        found.append(errors.FieldViolation("start_time", "START_TIME_REQUIRED", "is required"))
    if not request.HasField("end_time"):
        found.append(errors.FieldViolation("end_time", "END_TIME_REQUIRED", "is required"))
    if found:
        raise errors.invalid(found)
    start = request.start_time.ToDatetime(tzinfo=UTC)
    end = request.end_time.ToDatetime(tzinfo=UTC)
    interval = _INTERVALS.get(request.interval)
    if end <= start:
        found.append(errors.FieldViolation("end_time", "WINDOW_EMPTY", "must be after start_time"))
    elif end - start > MAX_WINDOW:
        found.append(
            errors.FieldViolation(
                "end_time",
                "WINDOW_TOO_LONG",
                f"must be at most {MAX_WINDOW.days} days after start_time",
            )
        )
    elif interval is not None and time_buckets(start, end, interval) > MAX_TIME_BUCKETS:
        found.append(
            errors.FieldViolation(
                "interval",
                "TOO_MANY_BUCKETS",
                f"would make more than {MAX_TIME_BUCKETS} time buckets over this window; "
                "choose a coarser interval or a shorter window",
            )
        )
    if found:
        raise errors.invalid(found)
    return analytics.Query(start, end, interval, _GROUPS.get(request.group_by))


def time_buckets(start: datetime, end: datetime, interval: analytics.Interval) -> int:
    """How many buckets [start, end) touches: from the one start falls in (buckets begin on
    UTC hours or midnights) to the one before end."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if interval is analytics.Interval.DAY:
        first = first.replace(hour=0)
    return -(-(end - first) // interval.length)


def bucket_message(bucket: analytics.Bucket) -> analytics_pb2.PaymentAnalyticsBucket:
    message = analytics_pb2.PaymentAnalyticsBucket(
        start_time=_timestamp(bucket),
        group=bucket.group,
        total_count=bucket.total,
        succeeded_count=bucket.succeeded,
        failed_count=bucket.failed,
        failover_count=bucket.failovers,
        volumes=[
            analytics_pb2.CurrencyVolume(
                currency=volume.currency,
                amount=volume.amount,
                succeeded_amount=volume.succeeded_amount,
                count=volume.count,
            )
            for volume in bucket.volumes
        ],
        failover_saved=[
            analytics_pb2.CurrencyAmount(currency=volume.currency, amount=volume.failover_amount)
            for volume in bucket.volumes
            if volume.failover_amount
        ],
    )
    message.end_time.FromDatetime(bucket.end)
    if (rate := bucket.success_rate) is not None:
        message.success_rate = rate
    if bucket.latency_p50_ms is not None:
        message.latency_p50.CopyFrom(_duration(bucket.latency_p50_ms))
    if bucket.latency_p95_ms is not None:
        message.latency_p95.CopyFrom(_duration(bucket.latency_p95_ms))
    return message


def _timestamp(bucket: analytics.Bucket) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(bucket.start)
    return stamp


def _duration(milliseconds: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromMicroseconds(round(milliseconds * 1000))
    return duration
