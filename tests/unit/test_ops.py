"""djstack-ops: how a command reaches a host, as Ansible would connect."""

from conftest import load

ops = load("roles/deploy/files/djstack-ops.py")


def test_a_local_host_runs_docker_directly() -> None:
    host = {"connection": "local", "become": False}
    assert ops.remote(host, ["docker", "logs", "x"]) == ["docker", "logs", "x"]


def test_a_remote_host_gets_ssh_with_its_port_key_and_sudo_when_ansible_becomes_root() -> None:
    host = {"connection": "ssh", "address": "10.0.0.5", "port": 2222, "user": "deploy", "key": "/k",
            "ssh_args": "-o ProxyJump=bastion", "become": True, "host_key_checking": False}  # fmt: skip
    argv = ops.remote(host, ["docker", "run", "--env", "A=b c", "img"], tty=True)
    assert argv[:3] == ["ssh", "-t", "-o"] and "BatchMode=yes" in argv
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-i") + 1] == "/k"
    assert "StrictHostKeyChecking=no" in argv and "ProxyJump=bastion" in argv
    assert argv[-3:] == [
        "deploy@10.0.0.5",
        "--",
        "sudo --non-interactive -- docker run --env 'A=b c' img",
    ]


def test_containers_of_a_service_are_found_on_every_host() -> None:
    hosts = {"b": {"containers": [{"name": "s-worker", "service": "worker"}]},
             "a": {"containers": [{"name": "s-mail", "service": "worker"}, {"name": "s-web-1", "service": "web"}]}}  # fmt: skip
    assert [(h, c) for h, _, c in ops.containers_of(hosts, "worker")] == [
        ("a", "s-mail"),
        ("b", "s-worker"),
    ]
