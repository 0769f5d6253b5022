from django.urls import path

from screening.views import breath, reports, results, searches, specimens

app_name = "screening"

# Specimens, custody and labels (screening/views/specimens.py), results, breath alcohol and
# searches (screening/views/results.py, breath.py, searches.py) add their paths here.
urlpatterns: list = [
    # Specimens, the random list, custody, labels and lab results (screening/views/specimens.py).
    path("screening/", specimens.specimen_home, name="specimens"),
    path("screening/scan/", specimens.specimen_scan, name="specimen_scan"),
    path("screening/random/", specimens.random_list, name="random_list"),
    path("screening/awaiting-lab/", specimens.awaiting_lab, name="awaiting_lab"),
    path("screening/stays/<uuid:public_id>/start/", specimens.specimen_start,
         name="specimen_start"),
    path("screening/stays/<uuid:public_id>/order/", specimens.specimen_order,
         name="specimen_order"),
    path("screening/specimens/<uuid:public_id>/", specimens.specimen, name="specimen"),
    path("screening/specimens/<uuid:public_id>/collect/", specimens.specimen_collect,
         name="specimen_collect"),
    path("screening/specimens/<uuid:public_id>/refuse/", specimens.specimen_refuse,
         name="specimen_refuse"),
    path("screening/specimens/<uuid:public_id>/recollect/", specimens.specimen_recollect,
         name="specimen_recollect"),
    path("screening/specimens/<uuid:public_id>/label.pdf", specimens.specimen_label,
         name="specimen_label"),
    path("screening/specimens/<uuid:public_id>/custody/", specimens.specimen_custody,
         name="specimen_custody"),
    path("screening/specimens/<uuid:public_id>/custody.pdf", specimens.custody_pdf,
         name="custody_pdf"),
    path("screening/specimens/<uuid:public_id>/lab-result/", specimens.lab_result,
         name="lab_result"),
    # Cup results, breath alcohol, searches and reports (screening/views/results.py, breath.py,
    # searches.py, reports.py).
    path("screening/specimens/<uuid:public_id>/result/", results.poc_record, name="poc_record"),
    path("screening/results/<uuid:public_id>/", results.poc_result, name="poc_result"),
    path("screening/results/<uuid:public_id>/send-to-lab/", results.poc_send_to_lab,
         name="poc_send_to_lab"),
    path("screening/results/<uuid:public_id>/strike/", results.poc_strike, name="poc_strike"),
    path("screening/stays/<uuid:public_id>/breath/", breath.breath_record, name="breath_record"),
    path("screening/breath/<uuid:public_id>/", breath.breath_result, name="breath_result"),
    path("screening/stays/<uuid:public_id>/search/", searches.search_record,
         name="search_record"),
    path("screening/searches/<uuid:public_id>/", searches.search_detail, name="search_detail"),
    path("screening/items/<uuid:public_id>/move/", searches.item_move, name="item_move"),
    path("screening/medications-brought-in/", searches.meds_brought_in, name="meds_brought_in"),
    path("screening/leaves/<uuid:public_id>/return/", searches.pass_return, name="pass_return"),
    path("screening/reports/positives/", reports.positives_report, name="positives_report"),
    path("screening/reports/positives.pdf", reports.positives_pdf, name="positives_pdf"),
    path("screening/reports/positives.csv", reports.positives_csv, name="positives_csv"),
]  # fmt: skip
