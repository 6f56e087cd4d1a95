"""What operators and load balancers read: liveness, readiness and Prometheus metrics."""
