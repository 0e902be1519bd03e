"""Mail templates in pt-BR and en: subject and plain-text body, with `$name` placeholders.

Kept as Python data (not files) so a wheel install carries them without
package-data. `render(name, lang, data)` picks the language (pt-BR is the
default; any "pt*" reads pt-BR, anything else en) and fills the placeholders;
a placeholder missing from `data` is a KeyError, never a half-filled mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

DEFAULT_LANG = "pt-BR"
LANGS = ("pt-BR", "en")

SIGNATURE = {
    "pt-BR": "\n\n-- \nGlimpse\nEsta é uma mensagem automática; não responda.",
    "en": "\n\n-- \nGlimpse\nThis is an automatic message; please do not reply.",
}

# Template name -> language -> (subject, body). Every template exists in every language.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "reset_code": {
        "pt-BR": (
            "Glimpse: código para redefinir sua senha",
            "Olá, $name.\n\n"
            "Seu código para redefinir a senha é: $code\n\n"
            "Ele vale por $minutes minutos e só pode ser usado uma vez. "
            "Se você não pediu a redefinição, ignore esta mensagem: sua senha continua a mesma.",
        ),
        "en": (
            "Glimpse: your password reset code",
            "Hello, $name.\n\n"
            "Your password reset code is: $code\n\n"
            "It is valid for $minutes minutes and can be used once. "
            "If you did not ask for a reset, ignore this message: your password has not changed.",
        ),
    },
    "welcome": {
        "pt-BR": (
            "Bem-vindo ao Glimpse",
            "Olá, $name.\n\n"
            "Sua conta no Glimpse foi criada com $days dias de acesso. "
            "Conecte sua conta da corretora no aplicativo, escolha sua estratégia ou lista de sinais "
            "e pressione Iniciar.",
        ),
        "en": (
            "Welcome to Glimpse",
            "Hello, $name.\n\n"
            "Your Glimpse account was created with $days days of access. "
            "Link your broker account in the app, choose a strategy or a signal list and press Start.",
        ),
    },
    "blocked": {
        "pt-BR": (
            "Glimpse: sua conta foi bloqueada",
            "Olá, $name.\n\n"
            "Sua conta no Glimpse foi bloqueada por um administrador e o robô foi parado. "
            "Se acredita que isso é um engano, fale com o suporte pelo aplicativo.",
        ),
        "en": (
            "Glimpse: your account was blocked",
            "Hello, $name.\n\n"
            "Your Glimpse account was blocked by an administrator and the bot was stopped. "
            "If you believe this is a mistake, contact support from the app.",
        ),
    },
    "days_granted": {
        "pt-BR": (
            "Glimpse: $days dias adicionados à sua conta",
            "Olá, $name.\n\n$days dias de acesso foram adicionados à sua conta. Agora você tem $total dias.",
        ),
        "en": (
            "Glimpse: $days days added to your account",
            "Hello, $name.\n\n$days days of access were added to your account. You now have $total days.",
        ),
    },
}


def language(lang: str | None) -> str:
    """The template language for a user's preference: pt-BR unless it is clearly another."""
    if not lang:
        return DEFAULT_LANG
    return "pt-BR" if lang.lower().startswith("pt") else "en"


def render(name: str, lang: str | None, data: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of template `name` in `lang`, with `data` filled in."""
    chosen = language(lang)
    subject, body = TEMPLATES[name][chosen]
    values = {k: str(v) for k, v in data.items()}
    return Template(subject).substitute(values), Template(body).substitute(values) + SIGNATURE[chosen]
