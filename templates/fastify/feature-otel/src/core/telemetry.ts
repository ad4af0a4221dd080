import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

// Probes and scrapes are not traced: they would drown the requests (their queries neither, as
// pg makes spans only under a request's).
const UNTRACED_ROUTES = new Set(["/health", "/metrics"]);
// A collector that does not answer must not hold up the exit (main.ts gives shutdown 10 s).
const FLUSH_TIMEOUT_MS = 3_000;
// How long one export (its retries included) may take, unless OTEL_EXPORTER_OTLP_TIMEOUT says:
// the SDK's 10 s would keep a stopping process alive that long while the collector refuses.
const EXPORT_TIMEOUT_MS = 2_000;

export interface Telemetry {
  /** Exports the spans still queued (for at most a few seconds), then stops tracing. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** service.name when OTEL_SERVICE_NAME is not set. */
  serviceName: string;
  /** Where finished spans go; by default OTLP over HTTP if an endpoint is configured (below). */
  spanProcessors?: SpanProcessor[];
}

/**
 * OTLP over HTTP (protobuf) in batches, off the request path, when OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise spans are made but go nowhere. The
 * exporter and the batch processor read the other standard settings themselves
 * (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_BSP_SCHEDULE_DELAY, ...).
 */
function processorsFromEnv(env: NodeJS.ProcessEnv): SpanProcessor[] {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return [];
  const timeoutSet = env.OTEL_EXPORTER_OTLP_TIMEOUT || env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
  const exporter = new OTLPTraceExporter(timeoutSet ? {} : { timeoutMillis: EXPORT_TIMEOUT_MS });
  return [new BatchSpanProcessor(exporter)];
}

/**
 * Starts tracing for the process: registers the tracer provider (sampling as OTEL_TRACES_SAMPLER
 * says, parent-based always-on by default), the AsyncLocalStorage context that carries the
 * current span through awaits, and the W3C `traceparent` propagator; and instruments pg, whose
 * queries become spans under the request's span. pg is patched as it loads, so this must run
 * before any module imports pg: src/instrumentation.ts, the first import of main.ts.
 */
export function startTelemetry({
  serviceName,
  spanProcessors = processorsFromEnv(process.env),
}: TelemetryOptions): Telemetry {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register();
  // Queries outside a request (migrations, start-up) make no trace of their own; taking a pooled
  // connection is no span either (one for each query would double the spans, for no insight).
  const pg = new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true });
  return {
    shutdown: async () => {
      pg.disable();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
      });
      await Promise.race([provider.shutdown().catch(() => {}), timeout]);
      clearTimeout(timer);
    },
  };
}

declare module "fastify" {
  interface FastifyRequest {
    /** The request's server span (the otel feature), the parent of its database spans; none
     * for /health and /metrics. */
    span: Span | null;
  }
}

function endSpan(request: FastifyRequest, reply: FastifyReply): void {
  const { span } = request;
  if (!span?.isRecording()) return; // untraced, not sampled, or ended already (an aborted request)
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
  if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * A server span per request, named by its route template (`GET /items/:item_id`), continuing the
 * caller's trace when the request carries a `traceparent` header. The handler runs with that
 * span as the current one, so pg's spans are its children. Call right after creating the app,
 * before its other hooks, so the span covers them.
 */
export function traceRequests(app: FastifyInstance): void {
  const tracer = trace.getTracer("http-server");
  app.decorateRequest("span", null);
  app.addHook("onRequest", (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && UNTRACED_ROUTES.has(route)) return done();
    const query = request.url.indexOf("?");
    request.span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: query === -1 ? request.url : request.url.slice(0, query),
          ...(route && { [ATTR_HTTP_ROUTE]: route }),
        },
      },
      propagation.extract(context.active(), request.headers),
    );
    done();
  });
  // After the body is read (its stream callbacks run outside any request's context): everything
  // from here to the handler's last await sees the span as the current one.
  app.addHook("preHandler", (request, _reply, done) => {
    if (request.span === null) return done();
    context.with(trace.setSpan(context.active(), request.span), done);
  });
  app.addHook("onResponse", (request, reply, done) => {
    endSpan(request, reply);
    done();
  });
  // The client went away: Fastify sends no response, so onResponse does not run.
  app.addHook("onRequestAbort", (request, done) => {
    request.span?.end();
    done();
  });
}
