"""The platform server: FastAPI app with the REST API and the dashboard."""
