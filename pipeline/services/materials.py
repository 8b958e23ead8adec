"""Sales materials attached to products: brochures, spec sheets, case studies,
demo decks and toolkits (SPEC sections 4 and 5).

An upload is checked for size and for being what its name says: the file's
first bytes must match its extension, so a renamed executable or HTML page is
not handed to the next rep as "brochure.pdf".
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from pipeline.models import Product, ProductMaterial

if TYPE_CHECKING:
    from accounts.models import User

#: Largest upload accepted, in bytes (``SALESORG_MATERIAL_MAX_BYTES``; 25 MB by default).
DEFAULT_MAX_BYTES = 25 * 1024 * 1024

_PDF = (b"%PDF-",)
_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
#: Allowed extensions and the signatures their content must start with.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": _PDF,
    ".pptx": _ZIP,
    ".docx": _ZIP,
    ".xlsx": _ZIP,
    ".zip": _ZIP,
    ".ppt": _OLE,
    ".doc": _OLE,
    ".xls": _OLE,
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".mp4": (),  # checked by its "ftyp" box below
}


def max_bytes() -> int:
    return int(getattr(settings, "SALESORG_MATERIAL_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_extensions() -> list[str]:
    return sorted(SIGNATURES)


def validate_material_file(upload: UploadedFile) -> None:
    """Refuse files that are too large, of a type we do not take, or not what they claim."""
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s; at most %(limit)s are accepted.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            }
        )
    if not upload.size:
        raise ValidationError({"file": _("The file is empty.")})
    ext = os.path.splitext(upload.name or "")[1].lower()
    if ext not in SIGNATURES:
        raise ValidationError(
            {
                "file": _("Files of this type are not accepted; use one of: %(types)s.")
                % {"types": ", ".join(allowed_extensions())}
            }
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    signatures = SIGNATURES[ext]
    matches = head[4:8] == b"ftyp" if ext == ".mp4" else head.startswith(signatures)
    if not matches:
        raise ValidationError(
            {"file": _("The file's content does not match its name (%(ext)s).") % {"ext": ext}}
        )


@transaction.atomic
def material_add(
    *, by: User, product: Product, kind: str, title: str, file: UploadedFile
) -> ProductMaterial:
    if not by.has_perm("pipeline.add_productmaterial"):
        raise PermissionDenied
    if kind not in ProductMaterial.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of material.")})
    validate_material_file(file)
    material = ProductMaterial(
        product=product, kind=kind, title=title.strip() or file.name, file=file
    )
    material.full_clean()
    material.save()
    return material


@transaction.atomic
def material_delete(*, by: User, material: ProductMaterial) -> None:
    if not by.has_perm("pipeline.delete_productmaterial"):
        raise PermissionDenied
    storage, name = material.file.storage, material.file.name
    material.delete()
    transaction.on_commit(lambda: storage.delete(name))
