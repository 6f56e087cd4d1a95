"""Channel and fulfilment analytics for the back office, and the routing policy lab."""
