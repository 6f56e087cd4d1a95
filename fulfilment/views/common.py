"""What every store page shares: the store picker and the store named in the URL."""

from django.shortcuts import redirect, render

from inventory.exceptions import DomainError
from oms.access import Role, role_required, store_for, stores_of

STORE_ROLES = (Role.STORE_STAFF,)


@role_required(*STORE_ROLES)
def store_home(request):
    """One store: straight to its queue; several: let the person choose."""
    stores = stores_of(request.user)
    if len(stores) == 1:
        return redirect("store:queue", code=stores[0].code)
    return render(request, "store/choose_store.html", {"stores": stores})


def store_page(view):
    """Decorate a store view ``view(request, store, ...)``: role checked, ``code`` resolved to a store of theirs."""

    @role_required(*STORE_ROLES)
    def wrapped(request, code, *args, **kwargs):
        store = store_for(request.user, code)
        request.store = store
        request.stores = stores_of(request.user)  # for the switcher; read only if the page shows it
        return view(request, store, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def refusal_message(error: DomainError) -> str:
    """Say why a service refused an action, in one message a person at the counter can act on."""
    details = []
    for field, texts in error.errors.items():
        name = field.rsplit(".", 1)[-1].replace("_", " ")
        details += [f"{name}: {text.split(': ', 1)[-1]}" for text in texts if text not in error.message]
    return " ".join([error.message, *details])
