"""Hand-written fakes shared by the app's tests and benchmarks."""
