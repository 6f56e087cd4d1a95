"""The customer-service back office: search, customer 360, order page and its actions.

It lives in the project package because it spans every app (orders, fulfilments, returns).
"""
