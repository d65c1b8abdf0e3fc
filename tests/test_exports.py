from conftest import department
from tracker.models import QuarterlyReturn, ReportingPeriod, HalfYearSummary
from tracker.plans.operations import plan_departments

def test_explore(load_seed):
    plan = load_seed()
    for p in ReportingPeriod.query.all():
        print(p.kind, p.number, p.label, p.short_label, p.due_on, p.starts_on, p.ends_on)
    for d in plan_departments(plan):
        forms = QuarterlyReturn.query.filter_by(department_id=d.id).all()
        print(d.id, d.name, [(f.period.number, len(f.lines)) for f in forms], HalfYearSummary.query.filter_by(department_id=d.id).count())
    print(plan.title if hasattr(plan,'title') else plan)
    assert 0
