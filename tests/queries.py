"""GraphQL documents shared by the tests."""

REQUEST_FIELDS = """
    id number type status rejectReason resolution canAppeal userEmail customerNote
    order { id }
    lines {
        id quantity quantityApproved quantityReceived quantityMissing quantityRefunded
        reason comment disposition unitPrice { amount currency }
        orderLine { id }
    }
    events { type actorType fromStatus toStatus message }
    refunds { id status amount { amount currency } idempotencyKey }
    refundedAmount { amount }
    assignee { email }
"""

ERRORS = "errors { field message code } aftersalesErrors { field code }"

RETURN_REQUEST_CREATE = f"""
mutation Create($input: AftersalesRequestCreateInput!) {{
  returnRequestCreate(input: $input) {{
    aftersalesRequest {{ {REQUEST_FIELDS} }}
    {ERRORS}
  }}
}}
"""

CANCEL = f"""
mutation Cancel($id: ID!, $token: UUID) {{
  aftersalesRequestCancel(id: $id, orderToken: $token) {{
    aftersalesRequest {{ id status }}
    {ERRORS}
  }}
}}
"""

APPEAL = f"""
mutation Appeal($id: ID!, $note: String!, $token: UUID) {{
  aftersalesRequestAppeal(id: $id, note: $note, orderToken: $token) {{
    aftersalesRequest {{ id status canAppeal }}
    {ERRORS}
  }}
}}
"""

PROVIDE_INFO = f"""
mutation ProvideInfo($id: ID!, $note: String!, $token: UUID) {{
  aftersalesRequestProvideInfo(id: $id, note: $note, orderToken: $token) {{
    aftersalesRequest {{ id status }}
    {ERRORS}
  }}
}}
"""

APPROVE = f"""
mutation Approve($id: ID!, $lines: [AftersalesApproveLineInput!], $note: String) {{
  aftersalesRequestApprove(id: $id, lines: $lines, note: $note) {{
    aftersalesRequest {{ {REQUEST_FIELDS} }}
    {ERRORS}
  }}
}}
"""

REJECT = f"""
mutation Reject($id: ID!, $reason: AftersalesRejectReason!, $note: String) {{
  aftersalesRequestReject(id: $id, reason: $reason, note: $note) {{
    aftersalesRequest {{ id status rejectReason canAppeal }}
    {ERRORS}
  }}
}}
"""

REQUEST_INFO = f"""
mutation RequestInfo($id: ID!, $note: String!) {{
  aftersalesRequestRequestInfo(id: $id, note: $note) {{
    aftersalesRequest {{ id status }}
    {ERRORS}
  }}
}}
"""

RECEIVE = f"""
mutation Receive($id: ID!, $lines: [AftersalesReceiveLineInput!], $warehouse: ID) {{
  aftersalesRequestReceive(id: $id, lines: $lines, warehouse: $warehouse) {{
    aftersalesRequest {{ {REQUEST_FIELDS} }}
    {ERRORS}
  }}
}}
"""

REFUND = f"""
mutation Refund(
  $id: ID!, $amount: Decimal, $includeShipping: Boolean, $restockingFee: Decimal,
  $method: AftersalesRefundMethod, $key: String
) {{
  aftersalesRequestRefund(
    id: $id, amount: $amount, includeShipping: $includeShipping,
    restockingFee: $restockingFee, method: $method, idempotencyKey: $key
  ) {{
    aftersalesRequest {{ {REQUEST_FIELDS} }}
    refund {{
      id status amount {{ amount currency }} shipping {{ amount }}
      restockingFee {{ amount }} idempotencyKey gatewayReference error
    }}
    {ERRORS}
  }}
}}
"""

CLOSE = f"""
mutation Close($id: ID!, $note: String) {{
  aftersalesRequestClose(id: $id, note: $note) {{
    aftersalesRequest {{ id status closedAt }}
    {ERRORS}
  }}
}}
"""

ASSIGN = f"""
mutation Assign($id: ID!, $staff: ID) {{
  aftersalesRequestAssign(id: $id, staffUser: $staff) {{
    aftersalesRequest {{ id assignee {{ email }} }}
    {ERRORS}
  }}
}}
"""

NOTE_ADD = f"""
mutation Note($id: ID!, $message: String!) {{
  aftersalesNoteAdd(id: $id, message: $message) {{
    aftersalesRequest {{ id events {{ type message }} }}
    {ERRORS}
  }}
}}
"""

REQUEST = f"""
query Request($id: ID!, $token: UUID) {{
  aftersalesRequest(id: $id, orderToken: $token) {{ {REQUEST_FIELDS} }}
}}
"""

ELIGIBILITY = """
query Eligibility($order: ID, $token: UUID) {
  aftersalesEligibility(order: $order, orderToken: $token) {
    isReturnable
    lines {
      orderLine { id }
      quantityFulfilled quantityInClaims returnableQuantity
      returnDeadline changedMindDeadline exchangeDeadline
    }
  }
}
"""

MY_REQUESTS = """
query Mine($first: Int, $after: String) {
  myAftersalesRequests(first: $first, after: $after) {
    totalCount
    edges { node { id number status lines { quantity } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

STAFF_REQUESTS = """
query All($first: Int, $after: String, $filter: AftersalesRequestFilterInput,
          $sortBy: AftersalesRequestSortingInput) {
  aftersalesRequests(first: $first, after: $after, filter: $filter, sortBy: $sortBy) {
    totalCount
    edges { node {
      id number status type userEmail
      order { id }
      assignee { email }
      lines { id quantity quantityApproved reason orderLine { id productName } }
      events { type actorType }
      refunds { status amount { amount } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CLAIM_FIELDS = f"""
    {REQUEST_FIELDS}
    underWarranty warrantyNote receivedCondition receivedAccessories handBack
    handBackTrackingNumber rating ratingComment
    replacementOrder {{ id }}
    warrantyCard {{ code }}
    quote {{
      diagnosis underWarranty accepted total {{ amount }} order {{ id }}
      lines {{ kind description quantity unitPrice {{ amount }} total {{ amount }} }}
    }}
"""

EXCHANGE_REQUEST_CREATE = f"""
mutation Create($input: AftersalesRequestCreateInput!) {{
  exchangeRequestCreate(input: $input) {{
    aftersalesRequest {{ {CLAIM_FIELDS} lines {{ replacementVariant {{ id }} }} }}
    {ERRORS}
  }}
}}
"""

REPAIR_REQUEST_CREATE = f"""
mutation Create($input: AftersalesRequestCreateInput!) {{
  repairRequestCreate(input: $input) {{
    aftersalesRequest {{ {CLAIM_FIELDS} lines {{ serialNumber meterReading }} }}
    {ERRORS}
  }}
}}
"""

EXCHANGE_FULFILL = f"""
mutation Fulfill($id: ID!) {{
  exchangeRequestFulfill(id: $id) {{
    aftersalesRequest {{ {CLAIM_FIELDS} }}
    refund {{ status amount {{ amount }} }}
    {ERRORS}
  }}
}}
"""

QUOTE_CREATE = f"""
mutation Quote($id: ID!, $lines: [RepairQuoteLineInput!], $underWarranty: Boolean,
               $diagnosis: String) {{
  repairQuoteCreate(id: $id, lines: $lines, underWarranty: $underWarranty,
                    diagnosis: $diagnosis) {{
    aftersalesRequest {{ {CLAIM_FIELDS} }}
    {ERRORS}
  }}
}}
"""

QUOTE_RESPOND = f"""
mutation Respond($id: ID!, $accept: Boolean!, $token: UUID) {{
  repairQuoteRespond(id: $id, accept: $accept, orderToken: $token) {{
    aftersalesRequest {{ {CLAIM_FIELDS} }}
    {ERRORS}
  }}
}}
"""

REPAIR_UPDATE = f"""
mutation Update($id: ID!, $status: AftersalesRequestStatus!, $note: String!,
                $handBack: AftersalesHandBackMethod, $tracking: String) {{
  repairStatusUpdate(id: $id, status: $status, note: $note, handBack: $handBack,
                     trackingNumber: $tracking) {{
    aftersalesRequest {{ {CLAIM_FIELDS} }}
    {ERRORS}
  }}
}}
"""

RATE = f"""
mutation Rate($id: ID!, $rating: Int!, $comment: String, $token: UUID) {{
  aftersalesRequestRate(id: $id, rating: $rating, comment: $comment, orderToken: $token) {{
    aftersalesRequest {{ id rating ratingComment events {{ type message }} }}
    {ERRORS}
  }}
}}
"""

RECEIVE_REPAIR = f"""
mutation Receive($id: ID!, $lines: [AftersalesReceiveLineInput!], $condition: String,
                 $accessories: String) {{
  aftersalesRequestReceive(id: $id, lines: $lines, condition: $condition,
                           accessories: $accessories) {{
    aftersalesRequest {{ {CLAIM_FIELDS} lines {{ serialNumber meterReading }} }}
    {ERRORS}
  }}
}}
"""

SERVICE_HISTORY = """
query History($serial: String!) {
  serviceHistory(serialNumber: $serial) { id number type status createdAt }
}
"""
