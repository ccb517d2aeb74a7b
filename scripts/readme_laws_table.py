"""Print the README's "Built-in laws" table from the registry (paste it over the old one).

tests/test_zoo.py checks that the README table and the registry agree, so a law added to
the zoo without documentation fails the suite.
"""

from jaxlaws.laws import list_laws


def table() -> str:
    rows = ["| name | form (status) | inputs | published coefficients (status; units) | form checked against |",
            "|---|---|---|---|---|"]
    for law in list_laws():
        eq = law.description.split("\n\n")[0]
        coefs = "; ".join(f"{k} ({cs.status}; {', '.join(f'{i}: {u}' for i, u in cs.units.items())})"
                          for k, cs in law.coefficients.items()) or "none"
        rows.append(f"| `{law.name}` | {eq} ({law.form_status}) | {', '.join(law.inputs)} | {coefs} | {law.source or '-'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
