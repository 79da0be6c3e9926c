// Package metrics holds the Prometheus metrics patchready exposes on its
// metrics address (--metrics-addr), separate from the dashboard's port.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"patchready/store"
)

var (
	// RequestDuration is each request's duration by route pattern, method
	// and status.
	RequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "patchready_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern, method and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "status"})

	// IngestEndpoints counts endpoints reported by sources (API and CSV).
	IngestEndpoints = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "patchready_ingest_endpoints_total",
		Help: "Endpoints reported by sources, by how (put, patch, import) and result (created, updated, unchanged, refused).",
	}, []string{"method", "result"})

	// WebhookDeliveries counts delivery attempts by event and result.
	WebhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "patchready_webhook_deliveries_total",
		Help: "Webhook delivery attempts, by event and result (delivered, failed).",
	}, []string{"event", "result"})
)

// estate reports the endpoints by impact and by exemption at each scrape,
// from the same counts the overview shows.
type estate struct {
	db                *store.DB
	impact, exemption *prometheus.Desc
}

func (e estate) Describe(ch chan<- *prometheus.Desc) { ch <- e.impact; ch <- e.exemption }

func (e estate) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !e.db.ListReady() {
		return // still building at start: no numbers rather than zeros
	}
	ov, err := e.db.Overview(ctx)
	if err != nil {
		return
	}
	for _, i := range store.Impacts {
		ch <- prometheus.MustNewConstMetric(e.impact, prometheus.GaugeValue, float64(ov.ByImpact[i]), i.String())
	}
	for _, x := range store.Catalog {
		ch <- prometheus.MustNewConstMetric(e.exemption, prometheus.GaugeValue, float64(ov.ByCode[x.Code]), string(x.Code))
	}
}

// Handler serves /metrics for db: the request, ingest and webhook metrics,
// the estate's gauges, and Go's runtime and process metrics.
func Handler(db *store.DB) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(RequestDuration, IngestEndpoints, WebhookDeliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		estate{db: db,
			impact:    prometheus.NewDesc("patchready_endpoints", "Endpoints by impact, as the overview counts them.", []string{"impact"}, nil),
			exemption: prometheus.NewDesc("patchready_exemption_endpoints", "Endpoints with each exemption.", []string{"code"}, nil)})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}
