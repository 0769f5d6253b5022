"""Transport URLs (issue 14): each views module lists its own patterns."""

from transport.views import documents, fleet, trips

app_name = "transport"
urlpatterns = [*fleet.urlpatterns, *trips.urlpatterns, *documents.urlpatterns]
