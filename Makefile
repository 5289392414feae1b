# Thin wrapper over ./dev, which works without make too.
.PHONY: demo test test-slow bench lint sample
demo test test-slow bench lint sample:
	./dev $@
