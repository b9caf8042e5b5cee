"""The files a user needs to talk to the cloud: clouds.yaml and openrc."""

from __future__ import annotations

from pathlib import Path

import yaml

from nubo.core.config import Settings


def _cloud(settings: Settings, user: str, password: str, project: str) -> dict[str, object]:
    return {
        "auth": {
            "auth_url": f"{settings.public_url}/identity",
            "username": user, "password": password, "project_name": project,
            "user_domain_id": "default", "project_domain_id": "default",
        },
        "region_name": "RegionOne",
        "interface": "public",
        "identity_api_version": 3,
    }


def write_clouds_yaml(settings: Settings, admin_password: str, demo_password: str) -> Path:
    clouds = {
        "nubo": _cloud(settings, "demo", demo_password, "demo"),
        "nubo-admin": _cloud(settings, "admin", admin_password, "admin"),
        "nubo-system-admin": {
            **_cloud(settings, "admin", admin_password, "admin"),
            "auth": {
                "auth_url": f"{settings.public_url}/identity", "username": "admin",
                "password": admin_password, "user_domain_id": "default", "system_scope": "all",
            },
        },
    }
    path = settings.state_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": clouds}, sort_keys=False))
    path.chmod(0o600)
    return path


def write_openrc(settings: Settings, user: str, password: str, project: str) -> Path:
    path = settings.state_path / f"openrc-{user}"
    path.write_text(
        f"export OS_AUTH_URL={settings.public_url}/identity\n"
        f"export OS_USERNAME={user}\nexport OS_PASSWORD='{password}'\n"
        f"export OS_PROJECT_NAME={project}\nexport OS_USER_DOMAIN_ID=default\n"
        f"export OS_PROJECT_DOMAIN_ID=default\nexport OS_REGION_NAME=RegionOne\n"
        f"export OS_IDENTITY_API_VERSION=3\nexport OS_INTERFACE=public\n"
    )
    path.chmod(0o600)
    return path
