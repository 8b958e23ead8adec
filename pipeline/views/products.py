"""The product catalogue: list, product page with its value stated as FAB and
its sales materials, and editing for the roles that keep the catalogue
(``pipeline.change_product``: support, managers, the director).

Products are the company's, not anyone's: every signed-in role may read them.
"""

from __future__ import annotations

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from pipeline.models import Product, ProductMaterial
from pipeline.product_forms import MaterialForm, ProductForm
from pipeline.services import materials as material_services
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

PRODUCT_SORT = {
    "name": "name",
    "code": "code",
    "category": ("category", "name"),
    "price": "unit_price",
    "materials": "material_count",
}


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def filtered_products(request: HttpRequest) -> QuerySet[Product]:
    qs = Product.objects.annotate(material_count=Count("materials"))
    q = request.GET.get("q", "").strip()[:100]
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(code__icontains=q)
            | Q(description__icontains=q)
            | Q(feature__icontains=q)
        )
    category = request.GET.get("category", "")
    if category:
        qs = qs.filter(category=category)
    active = request.GET.get("active", "yes")
    if active == "yes":
        qs = qs.filter(is_active=True)
    elif active == "no":
        qs = qs.filter(is_active=False)
    return qs


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.view_product")
    qs, sort = apply_sort(request, filtered_products(request), PRODUCT_SORT, "name")
    if request.GET.get("export") == "csv":
        return csv_response(
            "products",
            [
                _("Code"),
                pgettext("thing", "Name"),
                _("Category"),
                _("Unit price"),
                _("Currency"),
                _("Feature"),
                _("Advantage"),
                _("Benefit"),
                pgettext("product", "Active"),
            ],
            (
                (
                    p.code,
                    p.name,
                    p.category,
                    p.unit_price,
                    p.currency,
                    p.feature,
                    p.advantage,
                    p.benefit,
                    _("yes") if p.is_active else _("no"),
                )
                for p in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/products/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "categories": Product.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct(),
            "can_add": request.user.has_perm("pipeline.add_product"),
        },
    )


@login_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "pipeline.view_product")
    product = get_object_or_404(Product, pk=pk)
    user = request.user
    return render(
        request,
        "pipeline/products/detail.html",
        {
            "product": product,
            "materials": list(product.materials.all()),
            "material_form": MaterialForm()
            if user.has_perm("pipeline.add_productmaterial")
            else None,
            "can_change": user.has_perm("pipeline.change_product"),
            "can_delete_material": user.has_perm("pipeline.delete_productmaterial"),
        },
    )


def _form_page(request: HttpRequest, product: Product | None) -> HttpResponse:
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        product = form.save()
        messages.success(request, _("%(product)s was saved.") % {"product": product})
        return redirect("pipeline:product-detail", pk=product.pk)
    return render(request, "pipeline/products/form.html", {"form": form, "product": product})


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.add_product")
    return _form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    _require(request, "pipeline.change_product")
    return _form_page(request, product)


@login_required
@require_POST
def material_upload(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    _require(request, "pipeline.add_productmaterial")
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            material_services.material_add(
                by=request.user,
                product=product,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data.get("title") or "",
                file=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The material was uploaded."))
            return redirect("pipeline:product-detail", pk=product.pk)
    return render(
        request,
        "pipeline/products/detail.html",
        {
            "product": product,
            "materials": list(product.materials.all()),
            "material_form": form,
            "can_change": request.user.has_perm("pipeline.change_product"),
            "can_delete_material": request.user.has_perm("pipeline.delete_productmaterial"),
        },
        status=400,
    )


@login_required
def material_download(request: HttpRequest, pk: int) -> FileResponse:
    _require(request, "pipeline.view_productmaterial")
    material = get_object_or_404(ProductMaterial, pk=pk)
    try:
        handle = material.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    ext = os.path.splitext(material.file.name)[1]
    name = (
        material.title if material.title.lower().endswith(ext.lower()) else f"{material.title}{ext}"
    )
    return FileResponse(handle, as_attachment=True, filename=name)


@login_required
@require_POST
def material_delete(request: HttpRequest, pk: int) -> HttpResponse:
    material = get_object_or_404(ProductMaterial, pk=pk)
    material_services.material_delete(by=request.user, material=material)
    messages.success(request, _("The material was deleted."))
    return redirect("pipeline:product-detail", pk=material.product_id)
