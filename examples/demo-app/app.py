"""Orders service (deliberately insecure demo for Bastion)."""

import hashlib
import pickle
import sqlite3
import subprocess

import yaml
from flask import Flask, request

app = Flask(__name__)
DB_PASSWORD = "Sup3rS3cret!2024"


def ping(host):
    # Shell injection: the host comes straight from the request.
    return subprocess.call("ping -c 1 " + host, shell=True)


def find_order(order_id):
    conn = sqlite3.connect("orders.db")
    cursor = conn.cursor()
    cursor.execute("SELECT * FROM orders WHERE id = '%s'" % order_id)
    return cursor.fetchall()


def load_settings(text):
    return yaml.load(text)


def restore_cart(blob):
    return pickle.loads(blob)


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()


@app.route("/ping")
def ping_view():
    return str(ping(request.args["host"]))


@app.route("/calc")
def calc_view():
    return str(eval(request.args["expr"]))


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
