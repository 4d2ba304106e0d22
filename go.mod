module github.com/gatewarden/gatewarden

go 1.26.8

require (
	github.com/VictoriaMetrics/metrics v1.44.0 // indirect
	github.com/gopacket/gopacket v1.7.7 // indirect
	github.com/ishidawataru/sctp v0.0.0-20251114114122-19ddcbc6aae2 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	github.com/wmnsk/go-m3ua v0.1.11 // indirect
	golang.org/x/crypto v0.52.0 // indirect
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
